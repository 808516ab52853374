/** Conv2D on oneDNN (see onednn-conv.ts for the cases it takes). */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

import { ConvPass, OnednnAddon } from './native-addon';
import { isFloat32, nativeKernelConfig } from './native-kernel';
import { convPrecision, onednnConvGeometry, Shape4, size } from './onednn-conv';

export function conv2dConfig(addon: OnednnAddon): KernelConfig {
  return nativeKernelConfig<tf.Conv2DAttrs>(tf.Conv2D, (inputs, backend, attrs) => {
    const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
    if (!isFloat32(x, filter)) return null;
    const plan = onednnConvGeometry(x.shape as Shape4, filter.shape as Shape4, attrs);
    if (!plan) return null;
    // In bf16 the output stays bf16, as autocast's does: the batch norm after it reads bf16.
    const bf16 = backend.precision === 'bf16';
    const outSize = size(plan.info.outShape);
    const out = bf16 ? backend.bf16OutputBuffer(outSize) : backend.outputBuffer(outSize);
    addon.conv(
      ConvPass.Forward,
      backend.activationValues(x),
      backend.float32Values(filter),
      out,
      plan.g,
      convPrecision(backend),
    );
    return out instanceof Uint16Array
      ? backend.makeBf16TensorInfo(plan.info.outShape, out)
      : backend.makeTensorInfo(plan.info.outShape, 'float32', out);
  });
}
