/** Conv2DBackpropFilter on oneDNN (see onednn-conv.ts for the cases it takes). */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

import { ConvPass, OnednnAddon } from './native-addon';
import { isFloat32, nativeKernelConfig } from './native-kernel';
import { convPrecision, onednnConvGeometry, sameShape, Shape4, size } from './onednn-conv';

export function conv2dBackpropFilterConfig(addon: OnednnAddon): KernelConfig {
  return nativeKernelConfig<tf.Conv2DBackpropFilterAttrs>(
    tf.Conv2DBackpropFilter,
    (inputs, backend, attrs) => {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      if (!isFloat32(x, dy)) return null;
      const plan = onednnConvGeometry(x.shape as Shape4, attrs.filterShape, attrs);
      if (!plan || !sameShape(dy.shape, plan.info.outShape)) return null;
      const out = backend.outputBuffer(size(attrs.filterShape));
      addon.conv(
        ConvPass.BackwardWeights,
        backend.activationValues(x),
        backend.activationValues(dy),
        out,
        plan.g,
        convPrecision(backend),
      );
      return backend.makeTensorInfo([...attrs.filterShape], 'float32', out);
    },
  );
}
