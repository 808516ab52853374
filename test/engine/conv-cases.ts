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
