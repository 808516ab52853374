import * as tf from '@tensorflow/tfjs';
import { ResNetArchitecture } from './architecture';
import { ModelWeights } from './initial-weights';
import { layoutsOf, ParameterLayout } from './parameter-layout';
import {
  BATCH_NORM_EPSILON,
  convPadding,
  ResNetOps,
  resnetGraph,
  STEM_MAX_POOL,
  zeroPadKernel,
} from './resnet-forward';

/** Keras layer names are single path components; ours use '/' between scopes. */
function layerName(name: string): string {
  return name.replace(/\//g, '_');
}

/** Every value is overwritten at once, so drawing random initial values would only cost time. */
const OVERWRITTEN = 'zeros';

/** Applies a layer (which creates its variables) and then loads our values into them. */
function applyWithWeights(
  layer: tf.layers.Layer,
  input: tf.SymbolicTensor,
  weights: () => tf.Tensor[],
): tf.SymbolicTensor {
  const output = layer.apply(input) as tf.SymbolicTensor;
  // setWeights assigns the values to the layer's variables, which keep their own reference.
  tf.tidy(() => layer.setWeights(weights()));
  return output;
}

/**
 * The network as a tfjs-layers model (conv2d without bias, batchNormalization, ReLU, add, max-pool,
 * global average pooling, dense) with our weights: trainable parameters and the batch norms'
 * running statistics. Its output is the logits of resnetLogits in inference mode, for NHWC images
 * of `imageShape` normalised as in training. Only built-in layers are used (zero-pad shortcuts are
 * frozen 1×1 convolutions), so the saved model loads anywhere TF.js runs, browsers included.
 */
export function toLayersModel(
  arch: ResNetArchitecture,
  weights: ModelWeights,
  imageShape: readonly [number, number],
): tf.LayersModel {
  const layouts = layoutsOf(arch);
  const tensorOf = (layout: ParameterLayout, flat: Float32Array, name: string): tf.Tensor =>
    tf.tensor(layout.view(flat, name), [...layout.get(name).shape]);
  const param = (name: string): tf.Tensor => tensorOf(layouts.params, weights.params, name);
  const runningStat = (name: string): tf.Tensor => tensorOf(layouts.state, weights.state, name);

  const ops: ResNetOps<tf.SymbolicTensor, tf.SymbolicTensor> = {
    convBn(x, spec, epilogue) {
      const conv = tf.layers.conv2d({
        name: layerName(spec.name),
        filters: spec.outChannels,
        kernelSize: spec.kernel,
        strides: spec.stride,
        padding: convPadding(spec),
        useBias: false,
        kernelInitializer: OVERWRITTEN,
      });
      const bn = `${spec.name}/bn`;
      // Momentum only matters for training in Keras; inference uses the running statistics as given.
      const batchNorm = tf.layers.batchNormalization({
        name: layerName(bn),
        axis: -1,
        epsilon: BATCH_NORM_EPSILON,
      });
      let y = applyWithWeights(
        batchNorm,
        applyWithWeights(conv, x, () => [param(`${spec.name}/kernel`)]),
        () => [
          param(`${bn}/gamma`),
          param(`${bn}/beta`),
          runningStat(`${bn}/mean`),
          runningStat(`${bn}/variance`),
        ],
      );
      if (epilogue.residual) {
        const add = tf.layers.add({ name: layerName(epilogue.residual.name) });
        y = add.apply([y, epilogue.residual.shortcut]) as tf.SymbolicTensor;
      }
      if (epilogue.relu) y = tf.layers.reLU({ name: layerName(epilogue.relu) }).apply(y) as tf.SymbolicTensor;
      return y;
    },
    zeroPadShortcut(x, spec) {
      const selection = tf.layers.conv2d({
        name: layerName(spec.name),
        filters: spec.outChannels,
        kernelSize: 1,
        strides: spec.stride,
        padding: 'valid',
        useBias: false,
        trainable: false,
        kernelInitializer: OVERWRITTEN,
      });
      return applyWithWeights(selection, x, () => [zeroPadKernel(spec)]);
    },
    maxPool: (x, name) =>
      tf.layers
        .maxPooling2d({
          name: layerName(name),
          poolSize: STEM_MAX_POOL.size,
          strides: STEM_MAX_POOL.stride,
          padding: 'same',
        })
        .apply(x) as tf.SymbolicTensor,
    classifier(x) {
      const features = tf.layers.globalAveragePooling2d({ name: 'avgpool' }).apply(x) as tf.SymbolicTensor;
      const fc = tf.layers.dense({ name: 'fc', units: arch.numClasses, kernelInitializer: OVERWRITTEN });
      return applyWithWeights(fc, features, () => [param('fc/kernel'), param('fc/bias')]);
    },
  };
  const input = tf.input({ name: 'image', shape: [imageShape[0], imageShape[1], 3] });
  return tf.model({ name: arch.name, inputs: input, outputs: resnetGraph(arch, ops, input) });
}
