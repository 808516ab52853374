/**
 * `npm run bench:gpu-shapes`: the workgroups this project's WebGPU programs dispatch for each
 * convolution and batch norm of a ResNet-20 training step, and how many that makes per SM of an
 * H100 (132 SMs). A calculation, not a measurement: it needs no GPU, so kernel shapes can be
 * checked against a big GPU's size before one is lent.
 *   BENCH_BATCHES=128,512   the batches to show
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNormSumShape, convDispatchShapes, DispatchShape } from '@resnet/engine';
import { architectureFor, ConvSpec } from '@resnet/model';

const H100_SMS = 132;

function convInfo(spec: ConvSpec, batch: number, side: number): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    [batch, side, side, spec.inChannels],
    [spec.kernel, spec.kernel, spec.inChannels, spec.outChannels],
    spec.stride,
    1,
    'same',
  );
}

function row(layer: string, batch: number, shape: DispatchShape): string {
  const perSm = (shape.workgroups / H100_SMS).toFixed(1);
  return `| ${layer} | ${batch} | ${shape.program} | ${shape.tile ?? '–'} | ${shape.threadsPerWorkgroup} | ${shape.workgroups} | ${perSm} | ${shape.splits ?? '–'} |`;
}

const arch = architectureFor('resnet20', { numClasses: 10 });
const batches = (process.env.BENCH_BATCHES ?? '128,512').split(',').map(Number);
console.log(`ResNet-20, 32×32 images; workgroups per SM for an H100 (${H100_SMS} SMs)\n`);
console.log('| layer | batch | program | tile | threads / workgroup | workgroups | per SM | splits |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const batch of batches) {
  let side = 32;
  const layers: Array<{ spec: ConvSpec; side: number }> = [{ spec: arch.stem, side }];
  for (const block of arch.blocks) {
    const inSide = side;
    for (const spec of block.convs) {
      layers.push({ spec, side });
      side = Math.ceil(side / spec.stride);
    }
    if (block.shortcut) layers.push({ spec: block.shortcut.conv, side: inSide });
  }
  for (const { spec, side: inSide } of layers) {
    const conv = convInfo(spec, batch, inSide);
    for (const shape of convDispatchShapes(conv)) console.log(row(spec.name, batch, shape));
    console.log(row(spec.name, batch, batchNormSumShape(conv.outShape)));
  }
}
