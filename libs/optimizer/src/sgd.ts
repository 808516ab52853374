export interface SgdSettings {
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
}

/**
 * One SGD step in place, with PyTorch's semantics (torch.optim.SGD, dampening 0):
 *   d = g + wd·w;  v = μ·v + d;  w -= lr·(nesterov ? d + μ·v : v)
 * Weight decay applies to every parameter, as in the reference scripts.
 */
export function sgdStep(
  weights: Float32Array,
  gradient: Float32Array,
  velocity: Float32Array,
  lr: number,
  s: SgdSettings,
): void {
  if (weights.length !== gradient.length || weights.length !== velocity.length) {
    throw new Error(
      `sgdStep: weights (${weights.length}), gradient (${gradient.length}) and velocity (${velocity.length}) differ in size`,
    );
  }
  const { momentum, weightDecay, nesterov } = s;
  for (let i = 0; i < weights.length; i++) {
    const d = gradient[i] + weightDecay * weights[i];
    const v = momentum * velocity[i] + d;
    velocity[i] = v;
    weights[i] -= lr * (nesterov ? d + momentum * v : v);
  }
}
