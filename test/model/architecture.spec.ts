import * as assert from 'node:assert/strict';
import { architectureFor, convolutions, layoutsOf } from '@resnet/model';

const millions = (name: string, options = { numClasses: 10 }) =>
  layoutsOf(architectureFor(name, options)).params.size / 1e6;

describe('model registry', () => {
  it("CIFAR ResNets have the paper's parameter counts (option B shortcuts add a little)", () => {
    assert.equal(Math.round(millions('resnet20') * 100) / 100, 0.27);
    assert.equal(Math.round(millions('resnet56') * 100) / 100, 0.86);
    assert.equal(Math.round(millions('resnet110') * 10) / 10, 1.7);
  });

  it("zero-padding shortcuts (option A) add no parameters: exactly the paper's counts", () => {
    const a = (n: string) => millions(n, { numClasses: 10, shortcut: 'zero-pad' } as never);
    assert.equal(Math.round(a('resnet20') * 100) / 100, 0.27);
    assert.equal(Math.round(a('resnet56') * 100) / 100, 0.85);
    assert.equal(Math.round(a('resnet110') * 10) / 10, 1.7);
  });

  it('ImageNet ResNets have the published parameter counts', () => {
    assert.equal(Math.round(millions('resnet18', { numClasses: 1000 }) * 10) / 10, 11.7);
    assert.equal(Math.round(millions('resnet34', { numClasses: 1000 }) * 10) / 10, 21.8);
    assert.equal(Math.round(millions('resnet50', { numClasses: 1000 }) * 10) / 10, 25.6);
    assert.equal(Math.round(millions('resnet101', { numClasses: 1000 }) * 10) / 10, 44.5);
    assert.equal(Math.round(millions('resnet152', { numClasses: 1000 }) * 10) / 10, 60.2);
  });

  it('ResNet-20 has 6n+2 = 20 weighted layers: 19 convolutions and one classifier', () => {
    const arch = architectureFor('resnet20', { numClasses: 10, shortcut: 'zero-pad' });
    assert.equal(convolutions(arch).length + 1, 20);
    assert.equal(arch.blocks.length, 9);
  });

  it('names the choices for an unknown model or depth', () => {
    assert.throws(
      () => architectureFor('resnet21', { numClasses: 10 }),
      /unknown model "resnet21": choose one of resnet20/,
    );
  });
});
