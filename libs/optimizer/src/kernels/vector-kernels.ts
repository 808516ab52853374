import path from 'node:path';
import { instantiateCompiledWasm } from '@resnet/wasm';

/** Values per staged chunk: a chunk's operands (at most 8 + 3·4 bytes a value) stay in the L2 cache. */
const CHUNK = 8192;
/**
 * Where the chunks sit in the kernels' memory: one f64 operand, then three f32 operands. Their
 * addresses differ modulo 4 kB from each other and from page-aligned arrays (big typed arrays and
 * their chunks): a copy or loop whose source and target are a multiple of 4 kB apart runs up to 15
 * times slower on this machine's CPUs (4K aliasing of loads and stores).
 */
const F64 = 2048;
const F32_A = F64 + CHUNK * 8 + 512;
const F32_B = F32_A + CHUNK * 4 + 512;
const F32_C = F32_B + CHUNK * 4 + 512;

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  allFinite(x: number, n: number): number;
  addInto(sum: number, x: number, n: number): void;
  divideInto(out: number, sum: number, n: number, divisor: number): void;
  sgdStep(
    w: number,
    g: number,
    vel: number,
    n: number,
    lr: number,
    momentum: number,
    weightDecay: number,
    nesterov: number,
  ): number;
}

/** The kernels take whole SIMD vectors of 4 values; the padding lanes hold zeros. */
const padded = (n: number): number => (n + 3) & ~3;

/**
 * The optimizer's loops over whole models — checking a gradient, folding it into the step's sum,
 * the mean, SGD — in WebAssembly SIMD (`vector-kernels.wat`, compiled by `npm run build`): 5 to 8
 * times faster than the same loops in JavaScript, which the coordinator runs for every shard of
 * every step. Results are bitwise those of the plain loops. The operands can live anywhere: each
 * call copies them through the kernels' memory a chunk at a time (a copy costs far less than the
 * arithmetic it replaces).
 */
export class VectorKernels {
  private static loaded: VectorKernels | undefined;
  private readonly f64: Float64Array;
  private readonly a: Float32Array;
  private readonly b: Float32Array;
  private readonly c: Float32Array;

  private constructor(private readonly k: KernelExports) {
    const memory = k.memory.buffer;
    this.f64 = new Float64Array(memory, F64, CHUNK);
    this.a = new Float32Array(memory, F32_A, CHUNK);
    this.b = new Float32Array(memory, F32_B, CHUNK);
    this.c = new Float32Array(memory, F32_C, CHUNK);
  }

  static get(): VectorKernels {
    if (!VectorKernels.loaded) {
      const file = path.join(__dirname, 'vector-kernels.wasm');
      VectorKernels.loaded = new VectorKernels(instantiateCompiledWasm<KernelExports>(file));
    }
    return VectorKernels.loaded;
  }

  /** Whether no value is NaN or infinite. */
  allFinite(values: Float32Array): boolean {
    for (let start = 0; start < values.length; start += CHUNK) {
      const n = this.stage(this.a, values, start);
      if (!this.k.allFinite(F32_A, padded(n))) return false;
    }
    return true;
  }

  /** sum[i] += values[i], in float64. */
  addInto(sum: Float64Array, values: Float32Array): void {
    sameLength(sum, values);
    for (let start = 0; start < values.length; start += CHUNK) {
      const n = this.stage(this.a, values, start);
      this.f64.set(sum.subarray(start, start + n));
      this.k.addInto(F64, F32_A, padded(n));
      sum.set(this.f64.subarray(0, n), start);
    }
  }

  /** out[i] = sum[i] / divisor, rounded to float32. */
  divideInto(out: Float32Array, sum: Float64Array, divisor: number): void {
    sameLength(out, sum);
    for (let start = 0; start < sum.length; start += CHUNK) {
      const n = Math.min(CHUNK, sum.length - start);
      this.f64.set(sum.subarray(start, start + n));
      this.k.divideInto(F32_A, F64, padded(n), divisor);
      out.set(this.a.subarray(0, n), start);
    }
  }

  /**
   * One SGD step with momentum in place (see sgdStep for the formula). Returns whether every new
   * weight and velocity is finite.
   */
  sgdStep(
    weights: Float32Array,
    gradient: Float32Array,
    velocity: Float32Array,
    lr: number,
    momentum: number,
    weightDecay: number,
    nesterov: boolean,
  ): boolean {
    sameLength(weights, gradient);
    sameLength(weights, velocity);
    let finite = true;
    for (let start = 0; start < weights.length; start += CHUNK) {
      const n = this.stage(this.a, weights, start);
      this.stage(this.b, gradient, start);
      this.stage(this.c, velocity, start);
      const chunkFinite = this.k.sgdStep(
        F32_A,
        F32_B,
        F32_C,
        padded(n),
        lr,
        momentum,
        weightDecay,
        nesterov ? 1 : 0,
      );
      finite &&= chunkFinite === 1;
      weights.set(this.a.subarray(0, n), start);
      velocity.set(this.c.subarray(0, n), start);
    }
    return finite;
  }

  /** Copies the chunk at `start` into `into`, zero-padded to whole vectors; returns its length. */
  private stage(into: Float32Array, values: Float32Array, start: number): number {
    const n = Math.min(CHUNK, values.length - start);
    into.set(values.subarray(start, start + n));
    into.fill(0, n, padded(n));
    return n;
  }
}

function sameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new RangeError(`vector lengths differ: ${a.length} and ${b.length}`);
}
