import { ConvSpec, ResNetArchitecture } from './architecture';

export type Initializer = 'he-normal' | 'fan-in-uniform' | 'ones' | 'zeros';

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
  /** Offset of this tensor in the flat vector that holds all tensors of its layout. */
  readonly offset: number;
  readonly init: Initializer;
  readonly fanIn: number;
}

/**
 * The order, shapes and offsets of a set of tensors stored back to back in one Float32Array.
 * Weights, gradients and optimizer state all use the same layout, so they travel and are
 * updated as flat vectors.
 */
export class ParameterLayout {
  readonly tensors: readonly TensorSpec[];
  readonly size: number;
  private readonly byName: Map<string, TensorSpec>;

  constructor(
    entries: ReadonlyArray<{ name: string; shape: readonly number[]; init: Initializer; fanIn?: number }>,
  ) {
    let offset = 0;
    this.tensors = entries.map((e) => {
      const size = e.shape.reduce((a, b) => a * b, 1);
      const spec: TensorSpec = {
        name: e.name,
        shape: e.shape,
        size,
        offset,
        init: e.init,
        fanIn: e.fanIn ?? 1,
      };
      offset += size;
      return spec;
    });
    this.size = offset;
    this.byName = new Map(this.tensors.map((t) => [t.name, t]));
  }

  get(name: string): TensorSpec {
    const spec = this.byName.get(name);
    if (!spec) throw new Error(`no tensor named ${name} in this layout`);
    return spec;
  }

  view(flat: Float32Array, name: string): Float32Array {
    const spec = this.get(name);
    return flat.subarray(spec.offset, spec.offset + spec.size);
  }
}

/** A batch-norm layer: its trainable scale/offset and its running statistics. */
export interface BatchNormSpec {
  readonly name: string;
  readonly channels: number;
}

export interface ModelLayouts {
  /** Trainable tensors: conv kernels, batch-norm gamma/beta, classifier weights and bias. */
  readonly params: ParameterLayout;
  /** Batch-norm running mean and variance, in batch-norm order. */
  readonly state: ParameterLayout;
  readonly batchNorms: readonly BatchNormSpec[];
}

/** Every convolution of the network (each followed by a batch norm of the same name), in forward order. */
export function convolutions(arch: ResNetArchitecture): ConvSpec[] {
  const convs: ConvSpec[] = [arch.stem];
  for (const block of arch.blocks) {
    convs.push(...block.convs);
    if (block.shortcut?.kind === 'projection') convs.push(block.shortcut.conv);
  }
  return convs;
}

export function layoutsOf(arch: ResNetArchitecture): ModelLayouts {
  type Entry = ConstructorParameters<typeof ParameterLayout>[0][number];
  const params: Entry[] = [];
  const state: Entry[] = [];
  const batchNorms: BatchNormSpec[] = [];
  for (const c of convolutions(arch)) {
    const fanIn = c.kernel * c.kernel * c.inChannels;
    params.push({
      name: `${c.name}/kernel`,
      shape: [c.kernel, c.kernel, c.inChannels, c.outChannels],
      init: 'he-normal',
      fanIn,
    });
    params.push({ name: `${c.name}/bn/gamma`, shape: [c.outChannels], init: 'ones' });
    params.push({ name: `${c.name}/bn/beta`, shape: [c.outChannels], init: 'zeros' });
    state.push({ name: `${c.name}/bn/mean`, shape: [c.outChannels], init: 'zeros' });
    state.push({ name: `${c.name}/bn/variance`, shape: [c.outChannels], init: 'ones' });
    batchNorms.push({ name: `${c.name}/bn`, channels: c.outChannels });
  }
  const f = arch.featureChannels;
  params.push({ name: 'fc/kernel', shape: [f, arch.numClasses], init: 'fan-in-uniform', fanIn: f });
  params.push({ name: 'fc/bias', shape: [arch.numClasses], init: 'fan-in-uniform', fanIn: f });
  return { params: new ParameterLayout(params), state: new ParameterLayout(state), batchNorms };
}
