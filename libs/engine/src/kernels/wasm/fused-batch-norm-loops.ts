import path from 'node:path';
import { compiledWasmModule } from '@resnet/protocol';

/** Target values per staged chunk: the chunk's operands stay in the L2 cache. */
const CHUNK_TARGET = 8192;
/**
 * Gap between the regions of the loops' memory: regions a multiple of 4 kB apart alias in the
 * CPU's load/store disambiguation and make the loops several times slower.
 */
const GAP = 512;
const PAGE = 64 * 1024;

interface LoopExports {
  readonly memory: WebAssembly.Memory;
  moments(x: number, n: number, period: number, shift: number, sum: number, squares: number): void;
  normalise(
    x: number,
    residual: number,
    n: number,
    period: number,
    mul: number,
    add: number,
    relu: number,
  ): void;
  gradSums(
    dy: number,
    x: number,
    y: number,
    n: number,
    period: number,
    mean: number,
    sumG: number,
    sumGX: number,
    relu: number,
  ): void;
  gradInput(
    dy: number,
    x: number,
    y: number,
    n: number,
    period: number,
    mean: number,
    a: number,
    b: number,
    c: number,
    relu: number,
  ): void;
}

/** Byte offsets in the loops' memory for one channel count. */
interface Layout {
  channels: number;
  /** Values per period: the least common multiple of the channel count and 4. */
  period: number;
  /** Values per chunk: a whole number of periods. */
  chunk: number;
  /** Four per-lane f32 operands. */
  lanes: [number, number, number, number];
  /** Two per-lane f64 accumulators. */
  sums: [number, number];
  /** Three staged chunks. */
  streams: [number, number, number];
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function layoutFor(channels: number): Layout {
  const period = (channels * 4) / gcd(channels, 4);
  const chunk = period * Math.max(1, Math.floor(CHUNK_TARGET / period));
  let next = GAP;
  const region = (bytes: number): number => {
    const at = next;
    next += bytes + GAP;
    return at;
  };
  return {
    channels,
    period,
    chunk,
    lanes: [region(4 * period), region(4 * period), region(4 * period), region(4 * period)],
    sums: [region(8 * period), region(8 * period)],
    streams: [region(4 * chunk), region(4 * chunk), region(4 * chunk)],
  };
}

function end(layout: Layout): number {
  return layout.streams[2] + 4 * layout.chunk;
}

/**
 * The fused batch-norm kernels' loops over activations in WebAssembly SIMD
 * (fused-batch-norm-loops.wat, compiled by `npm run build`), on any Float32Arrays: each pass
 * copies its operands through the loops' memory a chunk at a time. The per-channel arithmetic
 * between the passes is done here, in double, as in the onednn kernels.
 */
export class FusedBatchNormLoops {
  private static loaded: FusedBatchNormLoops | undefined;
  private layout: Layout | undefined;

  private constructor(private readonly k: LoopExports) {}

  static get(): FusedBatchNormLoops {
    if (!FusedBatchNormLoops.loaded) {
      const module = compiledWasmModule(path.join(__dirname, 'fused-batch-norm-loops.wasm'));
      const instance = new WebAssembly.Instance(module, {});
      FusedBatchNormLoops.loaded = new FusedBatchNormLoops(instance.exports as unknown as LoopExports);
    }
    return FusedBatchNormLoops.loaded;
  }

  /** See FusedBatchNormInputs; x is NHWC with scale.length channels. */
  forward(
    x: Float32Array,
    scale: Float32Array,
    offset: Float32Array,
    residual: Float32Array | null,
    epsilon: number,
    relu: boolean,
    out: { y: Float32Array; mean: Float32Array; variance: Float32Array },
  ): void {
    const layout = this.prepare(scale.length);
    const { channels, period } = layout;
    const [shift, mul, add] = layout.lanes.map((at) => this.f32(at, period));
    const [sum, squares] = layout.sums.map((at) => this.f64(at, period));
    // One pass for both moments, shifted by the first row so that E[d²] − E[d]² does not cancel.
    repeatLanes(shift, x.subarray(0, channels));
    sum.fill(0);
    squares.fill(0);
    const stream = this.f32(layout.streams[0], layout.chunk);
    this.chunks(layout, x.length, (start, n, padded) => {
      stream.set(x.subarray(start, start + n));
      // Past the end of the last chunk, the shift itself: d = 0 adds nothing to either sum.
      if (padded > n) stream.set(shift.subarray(n % period), n);
      this.k.moments(layout.streams[0], padded, period, layout.lanes[0], layout.sums[0], layout.sums[1]);
    });
    const count = x.length / channels;
    const channelSum = foldLanes(sum, channels);
    const channelSquares = foldLanes(squares, channels);
    const multiplier = new Float32Array(channels);
    const addend = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      const shiftedMean = channelSum[c] / count;
      const variance = Math.max(0, channelSquares[c] / count - shiftedMean * shiftedMean);
      const mean = x[c] + shiftedMean;
      const invStd = 1 / Math.sqrt(variance + Math.fround(epsilon));
      out.mean[c] = mean;
      out.variance[c] = variance;
      multiplier[c] = scale[c] * invStd;
      addend[c] = offset[c] - mean * scale[c] * invStd;
    }
    repeatLanes(mul, multiplier);
    repeatLanes(add, addend);
    const residualStream = this.f32(layout.streams[1], layout.chunk);
    this.chunks(layout, x.length, (start, n, padded) => {
      stream.set(x.subarray(start, start + n));
      if (residual) residualStream.set(residual.subarray(start, start + n));
      this.k.normalise(
        layout.streams[0],
        residual ? layout.streams[1] : 0,
        padded,
        period,
        layout.lanes[1],
        layout.lanes[2],
        relu ? 1 : 0,
      );
      out.y.set(stream.subarray(0, n), start);
    });
  }

  /** See FusedBatchNormGradInputs; dResidual is null when the forward op had no residual. */
  backward(
    inputs: {
      dy: Float32Array;
      x: Float32Array;
      scale: Float32Array;
      mean: Float32Array;
      variance: Float32Array;
      y: Float32Array;
    },
    epsilon: number,
    relu: boolean,
    out: { dx: Float32Array; dScale: Float32Array; dOffset: Float32Array; dResidual: Float32Array | null },
  ): void {
    const { dy, x, scale, mean, variance, y } = inputs;
    const layout = this.prepare(scale.length);
    const { channels, period } = layout;
    const [meanLanes, aLanes, bLanes, cLanes] = layout.lanes.map((at) => this.f32(at, period));
    const [sumG, sumGX] = layout.sums.map((at) => this.f64(at, period));
    const [dyStream, xStream, yStream] = layout.streams.map((at) => this.f32(at, layout.chunk));
    repeatLanes(meanLanes, mean);
    sumG.fill(0);
    sumGX.fill(0);
    // Zeros past the end of the last chunk: g = 0 there adds nothing to either sum.
    const stage = (start: number, n: number, padded: number): void => {
      dyStream.set(dy.subarray(start, start + n));
      xStream.set(x.subarray(start, start + n));
      if (relu) yStream.set(y.subarray(start, start + n));
      dyStream.fill(0, n, padded);
      xStream.fill(0, n, padded);
      yStream.fill(0, n, padded);
    };
    const [dyAt, xAt, yAt] = layout.streams;
    this.chunks(layout, x.length, (start, n, padded) => {
      stage(start, n, padded);
      this.k.gradSums(
        dyAt,
        xAt,
        yAt,
        padded,
        period,
        layout.lanes[0],
        layout.sums[0],
        layout.sums[1],
        relu ? 1 : 0,
      );
      out.dResidual?.set(dyStream.subarray(0, n), start);
    });
    const count = x.length / channels;
    const channelG = foldLanes(sumG, channels);
    const channelGX = foldLanes(sumGX, channels);
    // dx = A·g − B − (x − mean)·C with A = scale·invStd, B = A·dOffset/M, C = A·invStd·dScale/M.
    const a = new Float32Array(channels);
    const b = new Float32Array(channels);
    const c = new Float32Array(channels);
    for (let ch = 0; ch < channels; ch++) {
      const invStd = 1 / Math.sqrt(variance[ch] + Math.fround(epsilon));
      const dScale = channelGX[ch] * invStd;
      const coefficient = scale[ch] * invStd;
      out.dOffset[ch] = channelG[ch];
      out.dScale[ch] = dScale;
      a[ch] = coefficient;
      b[ch] = (coefficient * channelG[ch]) / count;
      c[ch] = (coefficient * invStd * dScale) / count;
    }
    repeatLanes(aLanes, a);
    repeatLanes(bLanes, b);
    repeatLanes(cLanes, c);
    this.chunks(layout, x.length, (start, n, padded) => {
      stage(start, n, padded);
      this.k.gradInput(
        dyAt,
        xAt,
        yAt,
        padded,
        period,
        layout.lanes[0],
        layout.lanes[1],
        layout.lanes[2],
        layout.lanes[3],
        relu ? 1 : 0,
      );
      out.dx.set(dyStream.subarray(0, n), start);
    });
  }

  /** Lays the memory out for `channels`, growing it when needed. */
  private prepare(channels: number): Layout {
    if (this.layout?.channels !== channels) {
      const layout = layoutFor(channels);
      const missing = end(layout) - this.k.memory.buffer.byteLength;
      if (missing > 0) this.k.memory.grow(Math.ceil(missing / PAGE));
      this.layout = layout;
    }
    return this.layout;
  }

  /** Calls body(start, n, padded) per chunk; padded is n rounded up to whole periods. */
  private chunks(
    layout: Layout,
    total: number,
    body: (start: number, n: number, padded: number) => void,
  ): void {
    for (let start = 0; start < total; start += layout.chunk) {
      const n = Math.min(layout.chunk, total - start);
      body(start, n, Math.ceil(n / layout.period) * layout.period);
    }
  }

  private f32(at: number, length: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, at, length);
  }

  private f64(at: number, length: number): Float64Array {
    return new Float64Array(this.k.memory.buffer, at, length);
  }
}

/** lanes[j] = values[j mod values.length]. */
function repeatLanes(lanes: Float32Array, values: Float32Array): void {
  for (let j = 0; j < lanes.length; j += values.length) lanes.set(values, j);
}

/** Per channel, the lanes' sums in lane order. */
function foldLanes(lanes: Float64Array, channels: number): Float64Array {
  const out = new Float64Array(channels);
  for (let j = 0; j < lanes.length; j++) out[j % channels] += lanes[j];
  return out;
}
