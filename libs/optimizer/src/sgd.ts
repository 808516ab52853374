import { VectorKernels } from './kernels/vector-kernels';

export interface SgdSettings {
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
}

/**
 * One SGD step in place, with PyTorch's semantics (torch.optim.SGD, dampening 0):
 *   d = g + wd·w;  v = μ·v + d;  w -= lr·(nesterov ? d + μ·v : v)
 * Weight decay applies to every parameter, as in the reference scripts. The arithmetic is in
 * float64, each result rounded to float32 once. Returns whether every new weight and velocity is
 * finite.
 */
export function sgdStep(
  weights: Float32Array,
  gradient: Float32Array,
  velocity: Float32Array,
  lr: number,
  s: SgdSettings,
): boolean {
  if (weights.length !== gradient.length || weights.length !== velocity.length) {
    throw new Error(
      `sgdStep: weights (${weights.length}), gradient (${gradient.length}) and velocity (${velocity.length}) differ in size`,
    );
  }
  return VectorKernels.get().sgdStep(weights, gradient, velocity, lr, s.momentum, s.weightDecay, s.nesterov);
}
