/** The convolutions the conv kernel tests run on each backend, and what a test needs of one. */
import * as tf from '@tensorflow/tfjs';

type Shape4 = [number, number, number, number];

/** An NHWC input batch×h×w×ci through a k×k filter to co channels. */
export interface ConvCase {
  batch: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
  /** What the case covers, for its title. */
  note?: string;
}

/** Explicit padding of an NHWC input: rows above and below, columns left and right. */
export function explicitPad(
  rows: [number, number],
  columns: [number, number],
): tf.backend_util.ExplicitPadding {
  return [[0, 0], rows, columns, [0, 0]];
}

/** The case as a test title. */
export function describeConv(c: ConvCase): string {
  const pad = typeof c.pad === 'object' ? JSON.stringify(c.pad.slice(1, 3)) : String(c.pad);
  return `b${c.batch} ${c.h}x${c.w} ${c.ci}->${c.co} k${c.k} s${c.strides} pad ${pad}${c.note ? ` (${c.note})` : ''}`;
}

/** The shapes of the case's input, filter and output (dy's shape in the gradients). */
export function convShapes(c: ConvCase): { xShape: Shape4; wShape: Shape4; yShape: Shape4 } {
  const xShape: Shape4 = [c.batch, c.h, c.w, c.ci];
  const wShape: Shape4 = [c.k, c.k, c.ci, c.co];
  const yShape = tf.backend_util.computeConv2DInfo(xShape, wShape, c.strides, 1, c.pad).outShape;
  return { xShape, wShape, yShape };
}

/**
 * The case's Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter, in that order, on the current
 * backend: x through w, and dy (the output's gradient) back through both.
 */
export function convPasses(c: ConvCase, x: Float32Array, w: Float32Array, dy: Float32Array): tf.Tensor[] {
  const { xShape, wShape, yShape } = convShapes(c);
  const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
  const [tx, tw, tdy] = [tf.tensor4d(x, xShape), tf.tensor4d(w, wShape), tf.tensor4d(dy, yShape)];
  const engine = tf.engine();
  return [
    engine.runKernel(tf.Conv2D, { x: tx, filter: tw }, { ...attrs, dilations: 1 } as never),
    engine.runKernel(tf.Conv2DBackpropInput, { dy: tdy, filter: tw }, {
      ...attrs,
      inputShape: xShape,
    } as never),
    engine.runKernel(tf.Conv2DBackpropFilter, { x: tx, dy: tdy }, { ...attrs, filterShape: wShape } as never),
  ] as tf.Tensor[];
}

/** NHWC convolutions a native backend's kernels are checked on: ResNet's, odd sizes, strides and paddings. */
export const NHWC_CONV_CASES: ConvCase[] = [
  { batch: 2, h: 8, w: 8, ci: 16, co: 16, k: 3, strides: 1, pad: 'same', note: 'CIFAR block' },
  { batch: 3, h: 9, w: 7, ci: 16, co: 32, k: 3, strides: 2, pad: 'same', note: 'odd sizes' },
  { batch: 2, h: 8, w: 8, ci: 16, co: 32, k: 1, strides: 2, pad: 'valid', note: 'projection shortcut' },
  { batch: 2, h: 9, w: 9, ci: 8, co: 16, k: 1, strides: 2, pad: 'valid', note: 'projection, odd size' },
  { batch: 1, h: 7, w: 7, ci: 16, co: 8, k: 1, strides: 1, pad: 'same' },
  { batch: 4, h: 8, w: 8, ci: 3, co: 16, k: 3, strides: 1, pad: 'same', note: 'CIFAR stem' },
  { batch: 2, h: 17, w: 15, ci: 3, co: 8, k: 7, strides: 2, pad: 'same', note: 'ImageNet stem' },
  { batch: 2, h: 11, w: 11, ci: 3, co: 4, k: 7, strides: 2, pad: 'valid' },
  { batch: 2, h: 8, w: 8, ci: 3, co: 16, k: 3, strides: 2, pad: 'valid', note: 'last row unread' },
  { batch: 1, h: 9, w: 5, ci: 3, co: 16, k: 3, strides: [2, 1], pad: 'same' },
  { batch: 2, h: 9, w: 9, ci: 4, co: 8, k: 5, strides: 2, pad: 1 },
  {
    batch: 2,
    h: 9,
    w: 6,
    ci: 5,
    co: 6,
    k: 3,
    strides: 1,
    pad: explicitPad([1, 2], [0, 1]),
    note: 'explicit',
  },
  {
    batch: 1,
    h: 8,
    w: 8,
    ci: 3,
    co: 4,
    k: 3,
    strides: 2,
    pad: explicitPad([2, 0], [1, 1]),
    note: 'explicit, stride 2',
  },
];
