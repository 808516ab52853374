/**
 * Pure descriptions of the ResNets of He et al. (CVPR 2016): which convolutions, batch norms and
 * shortcuts a network has, with no tensor library involved, so that the coordinator can size and
 * initialise weights without a compute backend.
 */
export type ShortcutKind = 'projection' | 'zero-pad';

export interface ConvSpec {
  readonly name: string;
  readonly kernel: number;
  readonly stride: number;
  readonly inChannels: number;
  readonly outChannels: number;
}

export interface ResidualBlockSpec {
  readonly name: string;
  /** Convolutions of the residual branch, each followed by batch norm (ReLU between them). */
  readonly convs: readonly ConvSpec[];
  /** Absent when the block's input and output shapes match (identity shortcut). */
  readonly shortcut?: { readonly kind: ShortcutKind; readonly conv: ConvSpec };
}

export interface ResNetArchitecture {
  readonly name: string;
  readonly family: 'cifar' | 'imagenet';
  readonly depth: number;
  readonly numClasses: number;
  readonly stem: ConvSpec;
  /** ImageNet stems follow the 7×7 convolution with a 3×3 stride-2 max-pool. */
  readonly stemMaxPool: boolean;
  readonly blocks: readonly ResidualBlockSpec[];
  readonly featureChannels: number;
}

function conv(
  name: string,
  kernel: number,
  stride: number,
  inChannels: number,
  outChannels: number,
): ConvSpec {
  return { name, kernel, stride, inChannels, outChannels };
}

function shortcutFor(
  name: string,
  inChannels: number,
  outChannels: number,
  stride: number,
  kind: ShortcutKind,
): ResidualBlockSpec['shortcut'] {
  if (stride === 1 && inChannels === outChannels) return undefined;
  return { kind, conv: conv(`${name}/shortcut`, 1, stride, inChannels, outChannels) };
}

/** How a family stacks its residual blocks: stage s has counts[s] blocks of widths[s] filters. */
interface StagePlan {
  readonly widths: readonly number[];
  readonly counts: readonly number[];
  /** Bottleneck blocks (1×1, 3×3, 1×1 with 4·width outputs) instead of basic ones (3×3, 3×3). */
  readonly bottleneck: boolean;
}

/**
 * A ResNet: the stem, then the stages' blocks, the first block of every stage after the first
 * halving the resolution with stride 2.
 */
function resNet(
  family: ResNetArchitecture['family'],
  depth: number,
  numClasses: number,
  shortcut: ShortcutKind,
  stem: ConvSpec,
  plan: StagePlan,
): ResNetArchitecture {
  const blocks: ResidualBlockSpec[] = [];
  let inChannels = stem.outChannels;
  plan.counts.forEach((count, stage) => {
    const width = plan.widths[stage];
    const outChannels = plan.bottleneck ? width * 4 : width;
    for (let i = 0; i < count; i++) {
      const stride = stage > 0 && i === 0 ? 2 : 1;
      const name = `stage${stage + 1}/block${i + 1}`;
      const convs = plan.bottleneck
        ? [
            conv(`${name}/conv1`, 1, 1, inChannels, width),
            conv(`${name}/conv2`, 3, stride, width, width),
            conv(`${name}/conv3`, 1, 1, width, outChannels),
          ]
        : [conv(`${name}/conv1`, 3, stride, inChannels, width), conv(`${name}/conv2`, 3, 1, width, width)];
      blocks.push({ name, convs, shortcut: shortcutFor(name, inChannels, outChannels, stride, shortcut) });
      inChannels = outChannels;
    }
  });
  return {
    name: `resnet${depth}`,
    family,
    depth,
    numClasses,
    stem,
    stemMaxPool: family === 'imagenet',
    blocks,
    featureChannels: inChannels,
  };
}

/** CIFAR ResNet-(6n+2): three stages of n basic blocks with 16, 32 and 64 filters. */
export function cifarResNet(depth: number, numClasses: number, shortcut: ShortcutKind): ResNetArchitecture {
  if ((depth - 2) % 6 !== 0 || depth < 8) {
    throw new Error(`CIFAR ResNet depth must be 6n+2 (20, 32, 44, 56, 110, 1202), got ${depth}`);
  }
  const n = (depth - 2) / 6;
  return resNet('cifar', depth, numClasses, shortcut, conv('stem/conv', 3, 1, 3, 16), {
    widths: [16, 32, 64],
    counts: [n, n, n],
    bottleneck: false,
  });
}

const IMAGENET_STAGES: Record<number, { bottleneck: boolean; counts: number[] }> = {
  18: { bottleneck: false, counts: [2, 2, 2, 2] },
  34: { bottleneck: false, counts: [3, 4, 6, 3] },
  50: { bottleneck: true, counts: [3, 4, 6, 3] },
  101: { bottleneck: true, counts: [3, 4, 23, 3] },
  152: { bottleneck: true, counts: [3, 8, 36, 3] },
};

/** ImageNet ResNet-18/34 (basic blocks) and 50/101/152 (bottleneck blocks), 7×7 stem and max-pool. */
export function imageNetResNet(
  depth: number,
  numClasses: number,
  shortcut: ShortcutKind,
): ResNetArchitecture {
  const plan = IMAGENET_STAGES[depth];
  if (!plan) throw new Error(`ImageNet ResNet depth must be one of 18, 34, 50, 101, 152, got ${depth}`);
  return resNet('imagenet', depth, numClasses, shortcut, conv('stem/conv', 7, 2, 3, 64), {
    ...plan,
    widths: [64, 128, 256, 512],
  });
}
