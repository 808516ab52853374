import path from 'node:path';
import { compiledWasmModule } from '@resnet/protocol';

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
/** Where a float64 vector of the instance's own (see float64Vector) begins. */
const OWN_F64 = F32_C + CHUNK * 4 + 512;
const PAGE = 65536;
/** WebAssembly's 32-bit memories hold at most 4 GB. */
const MAX_PAGES = 65536;

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
  private static module: WebAssembly.Module | undefined;
  private static loaded: VectorKernels | undefined;
  /** The instance whose memory holds each vector that float64Vector made. */
  private static readonly owners = new WeakMap<ArrayBufferLike, VectorKernels>();
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
    VectorKernels.loaded ??= VectorKernels.instantiate();
    return VectorKernels.loaded;
  }

  /**
   * A zeroed float64 vector in the memory of a kernels instance of its own, which addInto and
   * divideInto then use where it lies instead of copying it through the kernels' memory chunk by
   * chunk (for a step's gradient sum: 16 bytes copied per value and shard). Beyond what a
   * WebAssembly memory holds it is a plain Float64Array.
   */
  static float64Vector(length: number): Float64Array {
    const bytes = OWN_F64 + padded(length) * 8;
    if (bytes > MAX_PAGES * PAGE) return new Float64Array(length);
    const kernels = VectorKernels.instantiate(Math.ceil(bytes / PAGE));
    const vector = new Float64Array(kernels.k.memory.buffer, OWN_F64, length);
    VectorKernels.owners.set(vector.buffer, kernels);
    return vector;
  }

  /** A new instance of the kernels, its memory grown to `pages` first (growing detaches views). */
  private static instantiate(pages = 0): VectorKernels {
    VectorKernels.module ??= compiledWasmModule(path.join(__dirname, 'vector-kernels.wasm'));
    const k = new WebAssembly.Instance(VectorKernels.module, {}).exports as unknown as KernelExports;
    const more = pages - k.memory.buffer.byteLength / PAGE;
    if (more > 0) k.memory.grow(more);
    return new VectorKernels(k);
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
    const owner = VectorKernels.owners.get(sum.buffer);
    if (owner) return owner.addIntoOwn(sum, values);
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
    const owner = VectorKernels.owners.get(sum.buffer);
    for (let start = 0; start < sum.length; start += CHUNK) {
      const n = Math.min(CHUNK, sum.length - start);
      if (owner) {
        owner.k.divideInto(F32_A, sum.byteOffset + start * 8, padded(n), divisor);
        out.set(owner.a.subarray(0, n), start);
      } else {
        this.f64.set(sum.subarray(start, start + n));
        this.k.divideInto(F32_A, F64, padded(n), divisor);
        out.set(this.a.subarray(0, n), start);
      }
    }
  }

  /** addInto on a vector in this instance's memory: only the values are staged. */
  private addIntoOwn(sum: Float64Array, values: Float32Array): void {
    for (let start = 0; start < values.length; start += CHUNK) {
      const n = this.stage(this.a, values, start);
      this.k.addInto(sum.byteOffset + start * 8, F32_A, padded(n));
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
