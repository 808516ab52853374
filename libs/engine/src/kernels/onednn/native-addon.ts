/**
 * Finds and loads the oneDNN addon (libs/engine/native, built by scripts/build-native.js). The
 * compiled JavaScript runs from dist/ or another output folder, so the addon is looked up in each
 * folder above this file rather than at one fixed relative path.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ADDON_RELATIVE_PATH = path.join(
  'libs',
  'engine',
  'native',
  'build',
  'Release',
  'resnet_onednn.node',
);

/** How to get the addon when it is absent or broken; part of every error about it. */
export const ADDON_FIX = 'install oneDNN with `apt-get install libdnnl-dev`, then run `npm run build:native`';

export enum ConvPass {
  Forward = 0,
  BackwardData = 1,
  BackwardWeights = 2,
}

/** What a convolution computes in: float32, or bfloat16 operands with float32 accumulation. */
export enum ConvPrecision {
  F32 = 0,
  Bf16 = 1,
}

export enum BinaryOp {
  Add = 0,
  Sub = 1,
  Mul = 2,
  Div = 3,
  SquaredDifference = 4,
}

export enum UnaryOp {
  Relu = 0,
  Step = 1,
  Square = 2,
}

/**
 * The addon's exports (libs/engine/native/src/addon.cc). Outputs are written in place. An
 * activation (`Activation`) is float32, or bfloat16 in a Uint16Array (see OnednnBackend.isBf16).
 */
export interface OnednnAddon {
  /** bf16: whether oneDNN has a native (JIT: AVX512_BF16 or AMX) bf16 convolution on this CPU. */
  info(): { version: string; isa: string; threads: number; bf16: boolean };
  setThreads(threads: number): void;
  /**
   * Forward: a = x, b = w, out = y. BackwardData: a = dy, b = w, out = dx. BackwardWeights: a = x,
   * b = dy, out = dw. geometry: n, h, w, ci, co, kh, kw, oh, ow, strideH, strideW, padTop,
   * padLeft, padBottom, padRight. Inputs and output are float32 at either precision.
   */
  conv(
    pass: ConvPass,
    a: Activation,
    b: Float32Array | Activation,
    out: Float32Array | Activation,
    geometry: Int32Array,
    precision: ConvPrecision,
  ): void;
  /** out = a op b over a dense output of shape `dims`; inputs are addressed by per-dim strides (0 = broadcast). */
  binary(
    op: BinaryOp,
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    dims: Int32Array,
    aStrides: Int32Array,
    bStrides: Int32Array,
  ): void;
  unary(op: UnaryOp, x: Float32Array, out: Float32Array, alpha: number): void;
  /** x as [outer, inner, channels]; out[o, c] = scale * sum over inner. */
  reduceSum(
    x: Float32Array,
    outer: number,
    inner: number,
    channels: number,
    scale: number,
    out: Float32Array,
  ): void;
  /**
   * geometry: batchA, batchB, m, n, k, transposeA (0/1), transposeB (0/1); batch index i reads
   * a[i % batchA]. bf16: operands rounded to bfloat16, products accumulated in float32.
   */
  matMul(a: Float32Array, b: Float32Array, out: Float32Array, geometry: Int32Array, bf16: boolean): void;
  /** geometry: n, h, w, c, kh, kw, oh, ow, strideH, strideW, padTop, padLeft. */
  maxPool(x: Float32Array, out: Float32Array, geometry: Int32Array): void;
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, geometry: Int32Array): void;
  /** ResnetFusedBatchNorm on NHWC x of `channels` channels; residual null when there is none; x, residual and y stored alike. */
  fusedBatchNorm(
    x: Activation,
    scale: Float32Array,
    offset: Float32Array,
    residual: Activation | null,
    y: Activation,
    mean: Float32Array,
    variance: Float32Array,
    channels: number,
    epsilon: number,
    relu: boolean,
  ): void;
  /** ResnetFusedBatchNormGrad; dResidual null when the forward op had no residual; x, y and dx stored alike. */
  fusedBatchNormGrad(
    dy: Float32Array,
    x: Activation,
    scale: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    y: Activation,
    dx: Activation,
    dScale: Float32Array,
    dOffset: Float32Array,
    dResidual: Float32Array | null,
    channels: number,
    epsilon: number,
    relu: boolean,
  ): void;
}

/** Activation values as the addon takes them: float32, or bfloat16 as 16-bit patterns. */
export type Activation = Float32Array | Uint16Array;

export type AddonLoad = { addon: OnednnAddon } | { addon: null; reason: string };

function findAddon(): string | null {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, ADDON_RELATIVE_PATH);
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}

let cached: AddonLoad | undefined;

/** Loads the addon once; when it cannot, says why and how to fix it instead of throwing. */
export function loadOnednnAddon(): AddonLoad {
  if (cached) return cached;
  const file = findAddon();
  if (!file) {
    cached = { addon: null, reason: `the oneDNN addon (${ADDON_RELATIVE_PATH}) is not built: ${ADDON_FIX}` };
    return cached;
  }
  try {
    // OpenMP threads that spin between parallel regions take the core from V8's GC helpers and
    // from other workers; sleeping costs microseconds per region. libgomp reads this when it loads
    // with the addon, so it must be set before; an explicit setting is kept.
    process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
    const module = { exports: {} };
    process.dlopen(module, file);
    cached = { addon: module.exports as OnednnAddon };
  } catch (err) {
    cached = {
      addon: null,
      reason: `the oneDNN addon ${file} does not load (${(err as Error).message}): ${ADDON_FIX}`,
    };
  }
  return cached;
}
