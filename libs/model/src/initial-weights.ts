import { ModelLayouts, ParameterLayout } from './parameter-layout';

/** A model's full set of numbers: trainable parameters and batch-norm running statistics. */
export interface ModelWeights {
  readonly params: Float32Array;
  readonly state: Float32Array;
}

/** Uniform [0, 1) source; a seeded one makes initial weights reproducible. */
export type UniformSource = () => number;

function standardNormal(uniform: UniformSource): number {
  // Box-Muller; 1 - u keeps the logarithm's argument in (0, 1].
  const u = 1 - uniform();
  const v = uniform();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function fill(layout: ParameterLayout, uniform: UniformSource): Float32Array {
  const flat = new Float32Array(layout.size);
  for (const t of layout.tensors) {
    const view = flat.subarray(t.offset, t.offset + t.size);
    switch (t.init) {
      case 'ones':
        view.fill(1);
        break;
      case 'zeros':
        break;
      case 'he-normal': {
        // He et al. 2015, as the ResNet paper prescribes: N(0, 2 / fan_in).
        const std = Math.sqrt(2 / t.fanIn);
        for (let i = 0; i < view.length; i++) view[i] = standardNormal(uniform) * std;
        break;
      }
      case 'fan-in-uniform': {
        // The classifier's default in PyTorch's nn.Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        const bound = 1 / Math.sqrt(t.fanIn);
        for (let i = 0; i < view.length; i++) view[i] = (2 * uniform() - 1) * bound;
        break;
      }
    }
  }
  return flat;
}

export function initialWeights(layouts: ModelLayouts, uniform: UniformSource): ModelWeights {
  return { params: fill(layouts.params, uniform), state: fill(layouts.state, uniform) };
}
