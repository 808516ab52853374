import type { backend_util } from '@tensorflow/tfjs-core';
import type { ProgramUniforms } from './webgpu-program';
import { ComputeProgram, ElementwiseProgram, scalarUniforms, workgroupsFor } from './webgpu-program';

/**
 * Which product of a convolution the implicit GEMM computes. Each reads its operands straight from
 * the NHWC activations and the HWIO filter (no im2col buffer):
 * - forward: out[m, co] = Σ_k x(m, k) · W[k, co], m = (n, oh, ow), k = (r, s, ci);
 * - backpropInput: dx[m, ci] = Σ_k dy(m, k) · W[r, s, ci, co], m = (n, ih, iw), k = (r, s, co),
 *   reading the filter with its channel indices swapped;
 * - backpropFilter: dW[k, co] = Σ_m x(k, m) · dy[m, co], k = (r, s, ci), m = (n, oh, ow), split
 *   over the long m axis into partial sums that ConvSplitSumProgram adds in a fixed order.
 */
export type ConvGemmProduct = 'forward' | 'backpropInput' | 'backpropFilter';

/** Tile depth along the reduction axis. */
const TILE_K = 16;
/** Each thread computes a 4×4 block of the output tile. */
const THREAD_TILE = 4;
const WORKGROUP_THREADS = 256;
/**
 * Workgroups a dispatch should offer to keep a big GPU busy: 4 per SM of an H100 (132 SMs). WebGPU
 * does not tell the SM count, so the kernels are shaped for the largest GPU they are meant for.
 */
export const TARGET_WORKGROUPS = 4 * 132;
/** The smallest tile height: 4 rows of threads, each with 4 rows of the output. */
const MIN_TILE_ROWS = 16;
/** The shortest reduction a split of the filter gradient takes: enough work to hide its write. */
const MIN_SPLIT_LENGTH = 128;

export interface ConvGemmGeometry {
  /** Output rows, columns and reduction length of the GEMM. */
  readonly rows: number;
  readonly columns: number;
  readonly depth: number;
  /** Reduction splits (1 unless backpropFilter) and the reduction length of each. */
  readonly splits: number;
  readonly splitLength: number;
  /** The output block one workgroup computes. */
  readonly tileRows: number;
  readonly tileColumns: number;
}

/**
 * The tile: as wide as the output's columns allow (16, 32 or 64), as tall as 256 threads make it,
 * but no taller than the rows rounded up to 16, and halved while that leaves fewer than
 * TARGET_WORKGROUPS workgroups (the narrow late stages of a ResNet) unless the reduction is split.
 */
function convTile(rows: number, columns: number, splitReduction: boolean) {
  const tileColumns = Math.min(64, Math.max(16, 2 ** Math.ceil(Math.log2(columns))));
  const fullRows = (WORKGROUP_THREADS / (tileColumns / THREAD_TILE)) * THREAD_TILE;
  let tileRows = Math.min(fullRows, Math.ceil(rows / MIN_TILE_ROWS) * MIN_TILE_ROWS);
  const workgroups = () => workgroupsFor(rows, tileRows) * workgroupsFor(columns, tileColumns);
  while (!splitReduction && tileRows > MIN_TILE_ROWS && workgroups() < TARGET_WORKGROUPS) {
    tileRows = Math.max(MIN_TILE_ROWS, Math.ceil(tileRows / 2 / MIN_TILE_ROWS) * MIN_TILE_ROWS);
  }
  return { tileRows, tileColumns, workgroups: workgroups() };
}

export function convGemmGeometry(product: ConvGemmProduct, conv: backend_util.Conv2DInfo): ConvGemmGeometry {
  const window = conv.filterHeight * conv.filterWidth;
  const outPixels = conv.batchSize * conv.outHeight * conv.outWidth;
  switch (product) {
    case 'forward': {
      const { tileRows, tileColumns } = convTile(outPixels, conv.outChannels, false);
      const depth = window * conv.inChannels;
      return {
        rows: outPixels,
        columns: conv.outChannels,
        depth,
        splits: 1,
        splitLength: depth,
        tileRows,
        tileColumns,
      };
    }
    case 'backpropInput': {
      const rows = conv.batchSize * conv.inHeight * conv.inWidth;
      const { tileRows, tileColumns } = convTile(rows, conv.inChannels, false);
      const depth = window * conv.outChannels;
      return { rows, columns: conv.inChannels, depth, splits: 1, splitLength: depth, tileRows, tileColumns };
    }
    case 'backpropFilter': {
      // Few rows (filter taps) and a long reduction over the batch's pixels: split it until the
      // splits together offer TARGET_WORKGROUPS workgroups, each split still MIN_SPLIT_LENGTH long.
      const rows = window * conv.inChannels;
      const { tileRows, tileColumns, workgroups } = convTile(rows, conv.outChannels, true);
      const wanted = Math.ceil(TARGET_WORKGROUPS / workgroups);
      const splits = Math.max(1, Math.min(wanted, Math.floor(outPixels / MIN_SPLIT_LENGTH)));
      const splitLength = Math.ceil(outPixels / splits / TILE_K) * TILE_K;
      return {
        rows,
        columns: conv.outChannels,
        depth: outPixels,
        splits: Math.ceil(outPixels / splitLength),
        splitLength,
        tileRows,
        tileColumns,
      };
    }
  }
}

/** The geometry uniforms every product reads, in this order. */
const CONV_UNIFORMS =
  'batch : i32, inHeight : i32, inWidth : i32, inChannels : i32, outHeight : i32, outWidth : i32, ' +
  'outChannels : i32, filterHeight : i32, filterWidth : i32, strideHeight : i32, strideWidth : i32, ' +
  'padTop : i32, padLeft : i32, dilationHeight : i32, dilationWidth : i32, rows : i32, columns : i32, ' +
  'depth : i32, splitLength : i32,';

export function convGemmUniforms(conv: backend_util.Conv2DInfo, geometry: ConvGemmGeometry): ProgramUniforms {
  return scalarUniforms(
    'int32',
    conv.batchSize,
    conv.inHeight,
    conv.inWidth,
    conv.inChannels,
    conv.outHeight,
    conv.outWidth,
    conv.outChannels,
    conv.filterHeight,
    conv.filterWidth,
    conv.strideHeight,
    conv.strideWidth,
    conv.padInfo.top,
    conv.padInfo.left,
    conv.dilationHeight,
    conv.dilationWidth,
    geometry.rows,
    geometry.columns,
    geometry.depth,
    geometry.splitLength,
  );
}

/**
 * The operands of the two products that read the input's patches: A is the patch matrix x(pixel,
 * tap) (transposed for backpropFilter), B holds rows of outChannels values (the filter, or dy).
 */
function patchOperands(pixel: 'row' | 'k', tap: 'row' | 'k'): string {
  return `
    fn addressA(row : i32, k : i32) -> i32 {
      return inputAddress(${pixel}, ${tap});
    }
    fn addressB(k : i32, column : i32) -> i32 {
      return k * uniforms.outChannels + column;
    }
    // B's neighbouring columns lie side by side.
    fn strideB() -> i32 {
      return 1;
    }`;
}

/**
 * Where one product finds its operands A[row, k] and B[k, column] in the bound inputs `a` and `b`:
 * an index, or -1 where A reads the convolution's zero padding.
 */
const OPERAND_ADDRESSES: Record<ConvGemmProduct, string> = {
  forward: patchOperands('row', 'k'),
  backpropInput: `
    fn addressA(row : i32, k : i32) -> i32 {
      let input = pixelAt(row, uniforms.inHeight, uniforms.inWidth);
      let t = tapAt(k, uniforms.outChannels);
      let ohStrided = input.y + uniforms.padTop - t.r * uniforms.dilationHeight;
      let owStrided = input.x + uniforms.padLeft - t.s * uniforms.dilationWidth;
      if (ohStrided < 0 || owStrided < 0) { return -1; }
      if (ohStrided % uniforms.strideHeight != 0 || owStrided % uniforms.strideWidth != 0) { return -1; }
      let oh = ohStrided / uniforms.strideHeight;
      let ow = owStrided / uniforms.strideWidth;
      if (oh >= uniforms.outHeight || ow >= uniforms.outWidth) { return -1; }
      return ((input.n * uniforms.outHeight + oh) * uniforms.outWidth + ow) * uniforms.outChannels + t.c;
    }
    // b is the filter [kh, kw, inChannels, outChannels]: B[(r, s, co), ci] with the channels swapped.
    fn addressB(k : i32, column : i32) -> i32 {
      let window = k / uniforms.outChannels;
      return (window * uniforms.inChannels + column) * uniforms.outChannels + k % uniforms.outChannels;
    }
    // B's neighbouring columns (input channels) lie a filter row of outChannels apart.
    fn strideB() -> i32 {
      return uniforms.outChannels;
    }`,
  backpropFilter: patchOperands('k', 'row'),
};

const OPERAND_READS = `
    struct Pixel { n : i32, y : i32, x : i32 }
    // Image n, row y and column x of a flat pixel index over images of height × width.
    fn pixelAt(pixel : i32, height : i32, width : i32) -> Pixel {
      return Pixel(pixel / (width * height), (pixel / width) % height, pixel % width);
    }
    struct Tap { r : i32, s : i32, c : i32 }
    // Filter row r, column s and channel c of a flat tap index over channels, then columns, then rows.
    fn tapAt(tap : i32, channels : i32) -> Tap {
      return Tap(tap / (channels * uniforms.filterWidth), (tap / channels) % uniforms.filterWidth, tap % channels);
    }
    // Where output pixel (n, oh, ow) reads the input through filter tap (r, s, ci); -1 in the padding.
    fn inputAddress(pixel : i32, tap : i32) -> i32 {
      let output = pixelAt(pixel, uniforms.outHeight, uniforms.outWidth);
      let t = tapAt(tap, uniforms.inChannels);
      let ih = output.y * uniforms.strideHeight - uniforms.padTop + t.r * uniforms.dilationHeight;
      let iw = output.x * uniforms.strideWidth - uniforms.padLeft + t.s * uniforms.dilationWidth;
      if (ih < 0 || ih >= uniforms.inHeight || iw < 0 || iw >= uniforms.inWidth) { return -1; }
      return ((output.n * uniforms.inHeight + ih) * uniforms.inWidth + iw) * uniforms.inChannels + t.c;
    }
    fn readA(row : i32, k : i32) -> f32 {
      let at = addressA(row, k);
      if (at < 0) { return 0.0; }
      return a[at];
    }
    // Four neighbours, along k or along rows, which lie side by side in memory (see aLoad): one
    // address for four.
    fn readA4(row : i32, k : i32) -> vec4<f32> {
      let at = addressA(row, k);
      if (at < 0) { return vec4<f32>(0.0); }
      return vec4<f32>(a[at], a[at + 1], a[at + 2], a[at + 3]);
    }
    // Four neighbouring columns of a row of B, strideB() apart in memory.
    fn readB4(k : i32, column : i32) -> vec4<f32> {
      let at = addressB(k, column);
      let stride = strideB();
      if (column + 3 < uniforms.columns) {
        return vec4<f32>(b[at], b[at + stride], b[at + 2 * stride], b[at + 3 * stride]);
      }
      var v = vec4<f32>(0.0);
      for (var j = 0; j < 4; j++) {
        if (column + j < uniforms.columns) { v[j] = b[at + j * stride]; }
      }
      return v;
    }`;

/** How a workgroup stages its slice of A: along k (a patch's channels) or along rows (filter taps). */
type ALoad = 'scalar' | 'vec4' | 'rowsScalar' | 'rowsVec4';

/**
 * The loop that stages a TILE_ROWS × TILE_K slice of A in workgroup memory (k-major), one or four
 * values per read. Rows fastest, neighbouring threads read neighbouring filter taps of one pixel,
 * which lie side by side in the input (coalesced), where k fastest would read a channel stride
 * apart. Four at a time, a group of four (along k: k0 and the reduction length are multiples of 4;
 * along rows: the channel count is) is in range or out whole.
 */
function aLoadCode(load: ALoad): string {
  const width = load === 'vec4' || load === 'rowsVec4' ? 4 : 1;
  const rowsFastest = load === 'rowsScalar' || load === 'rowsVec4';
  const [tileRow, kk] = rowsFastest
    ? [`(i % (TILE_ROWS / ${width})) * ${width}`, `i / (TILE_ROWS / ${width})`]
    : [`i / (TILE_K / ${width})`, `(i % (TILE_K / ${width})) * ${width}`];
  const store =
    width === 1
      ? 'tileA[kk * TILE_ROWS + tileRow] = v;'
      : rowsFastest
        ? 'for (var j = 0; j < 4; j++) { tileA[kk * TILE_ROWS + tileRow + j] = v[j]; }'
        : 'for (var j = 0; j < 4; j++) { tileA[(kk + j) * TILE_ROWS + tileRow] = v[j]; }';
  return `
        for (var i = thread; i < TILE_ROWS * TILE_K / ${width}; i += THREADS) {
          let tileRow = ${tileRow};
          let kk = ${kk};
          let row = rowBase + tileRow;
          let k = k0 + kk;
          var v = ${width === 1 ? '0.0' : 'vec4<f32>(0.0)'};
          if (row < uniforms.rows && k < kEnd) { v = ${width === 1 ? 'readA' : 'readA4'}(row, k); }
          ${store}
        }`;
}

/**
 * The A load for a product: four at once where four neighbours lie side by side in memory (same
 * filter tap, neighbouring channels), along k for the two products whose k runs over channels,
 * along rows for the filter gradient, whose rows do.
 */
function aLoad(product: ConvGemmProduct, conv: backend_util.Conv2DInfo): ALoad {
  if (product === 'forward') return conv.inChannels % 4 === 0 ? 'vec4' : 'scalar';
  if (product === 'backpropInput') return conv.outChannels % 4 === 0 ? 'vec4' : 'scalar';
  return conv.inChannels % 4 === 0 ? 'rowsVec4' : 'rowsScalar';
}

/**
 * A tiled implicit GEMM for the three products of a convolution. A workgroup of 256 threads owns a
 * tileRows × tileColumns block of the output, stages 16-deep slices of both operands in workgroup
 * memory and accumulates 4×4 per thread. The tile is as wide as the output's columns allow (16,
 * 32 or 64 channels), and as tall as 256 threads then make it, so narrow layers keep every thread
 * busy. The output holds [splits, rows, columns] values (splits is 1 except for the filter gradient)
 * under the shape the kernel asks for.
 */
export class ConvGemmProgram extends ComputeProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0], y: [1], z: [2] };
  dispatch: [number, number, number];
  variableNames = ['a', 'b'];
  workgroupSize: [number, number, number];
  override uniforms = CONV_UNIFORMS;
  private readonly tileRows: number;
  private readonly tileColumns: number;

  private readonly aLoad: ALoad;

  constructor(
    private readonly product: ConvGemmProduct,
    conv: backend_util.Conv2DInfo,
    geometry: ConvGemmGeometry,
    outputShape: number[],
  ) {
    super();
    this.aLoad = aLoad(product, conv);
    this.tileRows = geometry.tileRows;
    this.tileColumns = geometry.tileColumns;
    this.workgroupSize = [this.tileColumns / THREAD_TILE, this.tileRows / THREAD_TILE, 1];
    this.outputShape = outputShape;
    this.dispatch = [
      workgroupsFor(geometry.columns, this.tileColumns),
      workgroupsFor(geometry.rows, this.tileRows),
      geometry.splits,
    ];
    this.shaderKey = `resnetConvGemm_${product}_${this.tileRows}x${this.tileColumns}_${this.aLoad}`;
  }

  getUserCode(): string {
    const [threadColumns, threadRows] = this.workgroupSize;
    const rows = Array.from({ length: THREAD_TILE }, (_, i) => i);
    return `
    const TILE_ROWS = ${this.tileRows};
    const TILE_COLUMNS = ${this.tileColumns};
    const TILE_K = ${TILE_K};
    const THREAD_COLUMNS = ${threadColumns};
    const THREADS = ${threadColumns * threadRows};
    var<workgroup> tileA : array<f32, ${TILE_K * this.tileRows}>;
    var<workgroup> tileB : array<vec4<f32>, ${(TILE_K * this.tileColumns) / 4}>;
    ${OPERAND_ADDRESSES[this.product]}
    ${OPERAND_READS}

    fn main() {
      let thread = i32(localIndex);
      let threadColumn = thread % THREAD_COLUMNS;
      let threadRow = thread / THREAD_COLUMNS;
      let rowBase = i32(workgroupId.y) * TILE_ROWS;
      let columnBase = i32(workgroupId.x) * TILE_COLUMNS;
      let kBegin = i32(workgroupId.z) * uniforms.splitLength;
      let kEnd = min(kBegin + uniforms.splitLength, uniforms.depth);
      // Each thread owns 4 rows × 4 columns of the tile: one vec4 accumulator per row.
      ${rows.map((i) => `var acc${i} = vec4<f32>(0.0);`).join('\n      ')}
      // The trip count depends on uniforms only, so every thread reaches the barriers together.
      let tiles = (uniforms.splitLength + TILE_K - 1) / TILE_K;
      for (var t = 0; t < tiles; t++) {
        let k0 = kBegin + t * TILE_K;
        ${aLoadCode(this.aLoad)}
        for (var i = thread; i < TILE_COLUMNS * TILE_K / 4; i += THREADS) {
          let kk = i / (TILE_COLUMNS / 4);
          let column = columnBase + (i % (TILE_COLUMNS / 4)) * 4;
          let k = k0 + kk;
          var v = vec4<f32>(0.0);
          if (k < kEnd) { v = readB4(k, column); }
          tileB[i] = v;
        }
        workgroupBarrier();
        for (var kk = 0; kk < TILE_K; kk++) {
          let b = tileB[kk * (TILE_COLUMNS / 4) + threadColumn];
          let a = kk * TILE_ROWS + threadRow * 4;
          ${rows.map((i) => `acc${i} = fma(vec4<f32>(tileA[a + ${i}]), b, acc${i});`).join('\n          ')}
        }
        workgroupBarrier();
      }
      let splitBase = i32(workgroupId.z) * uniforms.rows * uniforms.columns;
      let column = columnBase + threadColumn * 4;
      ${rows
        .map((i) => `store(splitBase, rowBase + threadRow * 4 + ${i}, column, acc${i});`)
        .join('\n      ')}
    }

    fn store(splitBase : i32, row : i32, column : i32, values : vec4<f32>) {
      if (row >= uniforms.rows) { return; }
      for (var j = 0; j < 4; j++) {
        if (column + j < uniforms.columns) { result[splitBase + row * uniforms.columns + column + j] = values[j]; }
      }
    }`;
  }
}

/** Adds the filter gradient's split partial sums [splits, size] in split order: same bits every run. */
export class ConvSplitSumProgram extends ElementwiseProgram {
  shaderKey = 'resnetConvSplitSum';
  variableNames = ['partials'];
  override uniforms = 'splits : i32,';

  getUserCode(): string {
    return `
    fn main(index : i32) {
      if (index >= uniforms.size) { return; }
      var sum = 0.0;
      for (var s = 0; s < uniforms.splits; s++) { sum += partials[s * uniforms.size + index]; }
      result[index] = sum;
    }`;
  }
}
