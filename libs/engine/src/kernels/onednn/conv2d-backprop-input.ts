/** Conv2DBackpropInput on oneDNN (see onednn-conv.ts for the cases it takes). */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

import { ConvPass, OnednnAddon } from './native-addon';
import { isFloat32, nativeKernelConfig } from './native-kernel';
import { convPrecision, onednnConvGeometry, sameShape, Shape4, size } from './onednn-conv';

export function conv2dBackpropInputConfig(addon: OnednnAddon): KernelConfig {
  return nativeKernelConfig<tf.Conv2DBackpropInputAttrs>(tf.Conv2DBackpropInput, (inputs, backend, attrs) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    if (!isFloat32(dy, filter)) return null;
    const plan = onednnConvGeometry(attrs.inputShape, filter.shape as Shape4, attrs);
    if (!plan || !sameShape(dy.shape, plan.info.outShape)) return null;
    const out = backend.outputBuffer(size(attrs.inputShape));
    addon.conv(
      ConvPass.BackwardData,
      backend.activationValues(dy),
      backend.float32Values(filter),
      out,
      plan.g,
      convPrecision(backend),
    );
    return backend.makeTensorInfo([...attrs.inputShape], 'float32', out);
  });
}
