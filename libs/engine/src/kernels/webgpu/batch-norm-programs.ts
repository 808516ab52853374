import type { ProgramUniforms } from './webgpu-program';
import { ComputeProgram, ElementwiseProgram, scalarUniforms, workgroupsFor } from './webgpu-program';

const WORKGROUP_THREADS = 256;
/** Workgroups a channel reduction should offer to keep a big GPU (132 SMs) busy. */
const TARGET_SUM_WORKGROUPS = 512;
/** The fewest rows one block sums, so that each of its row lanes has several. */
const MIN_ROWS_PER_BLOCK = 16;
/** Threads that fold one channel's block sums. */
const TOTAL_THREADS = 64;

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
  private readonly rowsPerBlock: number;
  private readonly channelsPerWorkgroup: number;

  constructor(
    private readonly sums: ChannelSums,
    readonly geometry: ChannelRows,
  ) {
    super();
    this.channelsPerWorkgroup = Math.min(64, 2 ** Math.ceil(Math.log2(geometry.channels)));
    const channelGroups = workgroupsFor(geometry.channels, this.channelsPerWorkgroup);
    const wantedBlocks = Math.ceil(TARGET_SUM_WORKGROUPS / channelGroups);
    this.rowsPerBlock = Math.max(MIN_ROWS_PER_BLOCK, Math.ceil(geometry.rows / wantedBlocks));
    this.blocks = workgroupsFor(geometry.rows, this.rowsPerBlock);
    this.variableNames = SUM_TERMS[sums].variables;
    this.outputShape = [this.blocks, 2, geometry.channels];
    this.dispatch = [this.blocks, channelGroups, 1];
    this.shaderKey = `resnetChannelSums_${sums}_${this.channelsPerWorkgroup}`;
  }

  programUniforms(): ProgramUniforms {
    return scalarUniforms('int32', this.geometry.rows, this.geometry.channels, this.rowsPerBlock);
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

/**
 * Folds the blocks' partial sums of each channel into one ChannelTotal: a workgroup per channel,
 * whose threads take every TOTAL_THREADS-th block and then add up in a fixed tree, so the result is
 * the same bits on every run.
 */
export class ChannelTotalProgram extends ComputeProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0], y: [1] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number] = [TOTAL_THREADS, 1, 1];
  override uniforms = 'rows : i32, channels : i32, blocks : i32, epsilon : f32,';

  constructor(
    private readonly total: ChannelTotal,
    channels: number,
  ) {
    super();
    this.variableNames = TOTALS[total].variables;
    this.outputShape = [channels];
    this.dispatch = [channels, 1, 1];
    this.shaderKey = `resnetChannelTotal_${total}`;
  }

  getUserCode(): string {
    return `
    var<workgroup> firstSums : array<f32, ${TOTAL_THREADS}>;
    var<workgroup> secondSums : array<f32, ${TOTAL_THREADS}>;

    fn main() {
      let c = i32(workgroupId.x);
      let lane = i32(localIndex);
      let C = uniforms.channels;
      var firstLane = 0.0;
      var secondLane = 0.0;
      for (var block = lane; block < uniforms.blocks; block += ${TOTAL_THREADS}) {
        firstLane += partials[(block * 2) * C + c];
        secondLane += partials[(block * 2 + 1) * C + c];
      }
      firstSums[lane] = firstLane;
      secondSums[lane] = secondLane;
      workgroupBarrier();
      for (var half = ${TOTAL_THREADS / 2}; half > 0; half /= 2) {
        if (lane < half) {
          firstSums[lane] += firstSums[lane + half];
          secondSums[lane] += secondSums[lane + half];
        }
        workgroupBarrier();
      }
      if (lane == 0) {
        let first = firstSums[0];
        let second = secondSums[0];
        let count = f32(uniforms.rows);
        result[c] = ${TOTALS[this.total].value};
      }
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
  override uniforms = 'epsilon : f32, count : f32,';
  private readonly geometry: ChannelRows;

  constructor(
    private readonly map: ChannelwiseMap,
    shape: number[],
  ) {
    super(shape);
    this.geometry = channelRows(shape);
    this.variableNames = MAPS[map].variables;
    // The channel count is compiled in, so the channel of an index is no run-time division.
    this.shaderKey = `resnetChannelwise_${map}_${this.geometry.channels}`;
  }

  /** Its uniforms, for batch norm with `epsilon`. */
  programUniforms(epsilon: number): ProgramUniforms {
    return scalarUniforms('float32', epsilon, this.geometry.rows);
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
      let c = index % ${this.geometry.channels};
      result[index] = ${MAPS[this.map].value};
    }`;
  }
}
