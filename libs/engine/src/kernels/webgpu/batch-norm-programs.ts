import type { ProgramUniforms } from './webgpu-program';
import { ComputeProgram, ElementwiseProgram, scalarUniforms, workgroupsFor } from './webgpu-program';

const WORKGROUP_THREADS = 256;
/** Rows one workgroup of a channel reduction covers: the partial sums stay few and the work even. */
const ROWS_PER_BLOCK = 512;

/** An NHWC tensor seen as `rows` (N·H·W) × `channels` (C), the shape every batch-norm pass works on. */
export interface ChannelRows {
  readonly rows: number;
  readonly channels: number;
}

export function channelRows(shape: number[]): ChannelRows {
  const channels = shape[shape.length - 1];
  return { rows: shape.reduce((a, b) => a * b, 1) / channels, channels };
}

/**
 * What a channel reduction adds up per channel over each block of rows:
 * - moments: x − shift and its square, shift being the channel's first value, so that the
 *   variance E[(x−shift)²] − E[x−shift]² loses no precision to a large mean;
 * - gradient: g and g·x̂, with g = dy (masked by y > 0 after a ReLU) and x̂ the normalised input.
 */
export type ChannelSums = 'moments' | 'gradient' | 'gradientRelu';

const SUM_TERMS: Record<ChannelSums, { variables: string[]; terms: string }> = {
  moments: {
    variables: ['x'],
    terms: `
      let v = x[row * C + c] - x[c];
      first += v;
      second += v * v;`,
  },
  gradient: {
    variables: ['dy', 'x', 'mean'],
    terms: `
      let g = dy[row * C + c];
      first += g;
      second += g * (x[row * C + c] - mean[c]);`,
  },
  gradientRelu: {
    variables: ['dy', 'x', 'mean', 'y'],
    terms: `
      let g = select(0.0, dy[row * C + c], y[row * C + c] > 0.0);
      first += g;
      second += g * (x[row * C + c] - mean[c]);`,
  },
};

/**
 * Per-block channel sums in one pass: output [blocks, 2, C] (first and second sum). Threads of a
 * workgroup take neighbouring channels of the same rows, so reads are contiguous; the rows of a
 * block are then folded in a fixed tree, so results are the same bits on every run.
 */
export class ChannelSumsProgram extends ComputeProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0], y: [1] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number] = [WORKGROUP_THREADS, 1, 1];
  override uniforms = 'rows : i32, channels : i32, rowsPerBlock : i32,';
  readonly blocks: number;
  private readonly channelsPerWorkgroup: number;

  constructor(
    private readonly sums: ChannelSums,
    readonly geometry: ChannelRows,
  ) {
    super();
    this.channelsPerWorkgroup = Math.min(64, 2 ** Math.ceil(Math.log2(geometry.channels)));
    this.blocks = workgroupsFor(geometry.rows, ROWS_PER_BLOCK);
    this.variableNames = SUM_TERMS[sums].variables;
    this.outputShape = [this.blocks, 2, geometry.channels];
    this.dispatch = [this.blocks, workgroupsFor(geometry.channels, this.channelsPerWorkgroup), 1];
    this.shaderKey = `resnetChannelSums_${sums}_${this.channelsPerWorkgroup}`;
  }

  programUniforms(): ProgramUniforms {
    return scalarUniforms('int32', this.geometry.rows, this.geometry.channels, ROWS_PER_BLOCK);
  }

  /** The uniforms of a ChannelTotalProgram that folds this program's blocks. */
  totalUniforms(epsilon: number): ProgramUniforms {
    return [
      ...scalarUniforms('int32', this.geometry.rows, this.geometry.channels, this.blocks),
      ...scalarUniforms('float32', epsilon),
    ];
  }

  getUserCode(): string {
    const lanes = WORKGROUP_THREADS / this.channelsPerWorkgroup;
    return `
    const CHANNELS_PER_WORKGROUP = ${this.channelsPerWorkgroup};
    const ROW_LANES = ${lanes};
    var<workgroup> firstSums : array<f32, ${WORKGROUP_THREADS}>;
    var<workgroup> secondSums : array<f32, ${WORKGROUP_THREADS}>;

    fn main() {
      let lane = i32(localIndex);
      let c = i32(workgroupId.y) * CHANNELS_PER_WORKGROUP + lane % CHANNELS_PER_WORKGROUP;
      let rowLane = lane / CHANNELS_PER_WORKGROUP;
      let C = uniforms.channels;
      let block = i32(workgroupId.x);
      let rowEnd = min((block + 1) * uniforms.rowsPerBlock, uniforms.rows);
      var first = 0.0;
      var second = 0.0;
      if (c < C) {
        for (var row = block * uniforms.rowsPerBlock + rowLane; row < rowEnd; row += ROW_LANES) {
          ${SUM_TERMS[this.sums].terms}
        }
      }
      firstSums[lane] = first;
      secondSums[lane] = second;
      workgroupBarrier();
      for (var half = ROW_LANES / 2; half > 0; half /= 2) {
        if (rowLane < half) {
          firstSums[lane] += firstSums[lane + half * CHANNELS_PER_WORKGROUP];
          secondSums[lane] += secondSums[lane + half * CHANNELS_PER_WORKGROUP];
        }
        workgroupBarrier();
      }
      if (rowLane == 0 && c < C) {
        result[(block * 2) * C + c] = firstSums[lane];
        result[(block * 2 + 1) * C + c] = secondSums[lane];
      }
    }`;
  }
}

/**
 * What the per-channel totals of ChannelSumsProgram's blocks become, one [C] output each:
 * the batch mean (which needs `x` for the shift), the biased batch variance, dOffset = Σg and
 * dScale = Σg·x̂ (the sum of g·(x−mean), times 1/σ).
 */
export type ChannelTotal = 'mean' | 'variance' | 'offsetGradient' | 'scaleGradient';

const TOTALS: Record<ChannelTotal, { variables: string[]; value: string }> = {
  mean: { variables: ['partials', 'x'], value: 'x[c] + first / count' },
  variance: {
    variables: ['partials'],
    value: 'max(second / count - (first / count) * (first / count), 0.0)',
  },
  offsetGradient: { variables: ['partials'], value: 'first' },
  scaleGradient: {
    variables: ['partials', 'variance'],
    value: 'second * inverseSqrt(variance[c] + uniforms.epsilon)',
  },
};

/** Folds the blocks' partial sums of each channel in block order into one ChannelTotal. */
export class ChannelTotalProgram extends ComputeProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number] = [64, 1, 1];
  override uniforms = 'rows : i32, channels : i32, blocks : i32, epsilon : f32,';

  constructor(
    private readonly total: ChannelTotal,
    channels: number,
  ) {
    super();
    this.variableNames = TOTALS[total].variables;
    this.outputShape = [channels];
    this.dispatch = [workgroupsFor(channels, 64), 1, 1];
    this.shaderKey = `resnetChannelTotal_${total}`;
  }

  getUserCode(): string {
    return `
    fn main(c : i32) {
      let C = uniforms.channels;
      if (c >= C) { return; }
      var first = 0.0;
      var second = 0.0;
      for (var block = 0; block < uniforms.blocks; block++) {
        first += partials[(block * 2) * C + c];
        second += partials[(block * 2 + 1) * C + c];
      }
      let count = f32(uniforms.rows);
      result[c] = ${TOTALS[this.total].value};
    }`;
  }
}

/** Every bound input must appear in the shader: WebGPU's automatic layout drops unused bindings. */

/** Element-wise passes over an NHWC tensor; `c` is the element's channel. */
export type ChannelwiseMap =
  | 'normalise'
  | 'normaliseRelu'
  | 'normaliseResidualRelu'
  | 'normaliseResidual'
  | 'inputGradient'
  | 'inputGradientRelu'
  | 'reluMask';

const MAPS: Record<ChannelwiseMap, { variables: string[]; value: string }> = {
  normalise: {
    variables: ['x', 'mean', 'variance', 'scale', 'offset'],
    value: 'normalised(index, c)',
  },
  normaliseRelu: {
    variables: ['x', 'mean', 'variance', 'scale', 'offset'],
    value: 'max(normalised(index, c), 0.0)',
  },
  normaliseResidual: {
    variables: ['x', 'mean', 'variance', 'scale', 'offset', 'residual'],
    value: 'normalised(index, c) + residual[index]',
  },
  normaliseResidualRelu: {
    variables: ['x', 'mean', 'variance', 'scale', 'offset', 'residual'],
    value: 'max(normalised(index, c) + residual[index], 0.0)',
  },
  inputGradient: {
    variables: ['dy', 'x', 'mean', 'variance', 'scale', 'offsetGradient', 'scaleGradient'],
    value: 'inputGradient(dy[index], index, c)',
  },
  inputGradientRelu: {
    variables: ['dy', 'x', 'mean', 'variance', 'scale', 'offsetGradient', 'scaleGradient', 'y'],
    value: 'inputGradient(select(0.0, dy[index], y[index] > 0.0), index, c)',
  },
  reluMask: { variables: ['dy', 'y'], value: 'select(0.0, dy[index], y[index] > 0.0)' },
};

/** One element-wise pass of batch norm: normalise (with shift, residual, ReLU), or the input gradient. */
export class ChannelwiseProgram extends ElementwiseProgram {
  shaderKey: string;
  variableNames: string[];
  override uniforms = 'channels : i32, epsilon : f32, count : f32,';

  constructor(
    private readonly map: ChannelwiseMap,
    shape: number[],
  ) {
    super(shape);
    this.variableNames = MAPS[map].variables;
    this.shaderKey = `resnetChannelwise_${map}`;
  }

  /** Its uniforms, for batch norm with `epsilon`. */
  programUniforms(epsilon: number): ProgramUniforms {
    const { rows, channels } = channelRows(this.outputShape);
    return [...scalarUniforms('int32', channels), ...scalarUniforms('float32', epsilon, rows)];
  }

  getUserCode(): string {
    const normalises = this.map.startsWith('normalise');
    const helper = normalises
      ? `
    fn normalised(index : i32, c : i32) -> f32 {
      let invStd = inverseSqrt(variance[c] + uniforms.epsilon);
      return (x[index] - mean[c]) * invStd * scale[c] + offset[c];
    }`
      : this.map === 'reluMask'
        ? ''
        : `
    // dx = γ/σ · (g − Σg/M − x̂ · Σg·x̂ / M), with scaleGradient = Σg·x̂.
    fn inputGradient(g : f32, index : i32, c : i32) -> f32 {
      let invStd = inverseSqrt(variance[c] + uniforms.epsilon);
      let xHat = (x[index] - mean[c]) * invStd;
      return scale[c] * invStd * (g - offsetGradient[c] / uniforms.count - xHat * scaleGradient[c] / uniforms.count);
    }`;
    return `
    ${helper}
    fn main(index : i32) {
      if (index >= uniforms.size) { return; }
      let c = index % uniforms.channels;
      result[index] = ${MAPS[this.map].value};
    }`;
  }
}
