import { DatasetError } from './errors/dataset.error';
import { createImageTable, ImageTable } from './image-table';
import { hashSeed, mulberry32, Random } from './random';

export interface SyntheticTableOptions {
  size: number;
  height: number;
  width: number;
  numClasses: number;
  seed: number;
}

/** Per-pixel, per-channel noise is uniform in +-NOISE grey levels. */
const NOISE = 24;
const STRIPE_AMPLITUDE = 45;
/** Whole-image brightness shift, uniform in +-BRIGHTNESS_JITTER. */
const BRIGHTNESS_JITTER = 16;
const COLOUR_SPREAD = 70;

/**
 * A deterministic, quickly learnable stand-in for a real dataset. Class c has its own mean colour
 * (hues spread round the colour wheel) and its own stripe orientation; each image gets a random
 * stripe phase, a brightness shift and per-pixel noise. Stripes are translation invariant, so
 * random crops keep the class cue, and colour tells apart the classes whose orientations mirror
 * each other under a horizontal flip. Image i depends only on (seed, i), and label i is
 * i % numClasses, so classes are balanced.
 */
export function generateSyntheticTable(options: SyntheticTableOptions): ImageTable {
  const { size, height, width, numClasses, seed } = options;
  for (const [name, value] of Object.entries({ size, height, width, numClasses })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new DatasetError(`Synthetic dataset ${name} must be a positive whole number, got ${value}`);
    }
  }
  if (!Number.isSafeInteger(seed)) {
    throw new DatasetError(`Synthetic dataset seed must be a whole number, got ${seed}`);
  }
  const classNames = Array.from({ length: numClasses }, (_, c) => `class${c}`);
  const images = new Uint8Array(size * height * width * 3);
  const labels = new Int32Array(size);
  const period = Math.max(4, Math.min(height, width) / 4);
  for (let i = 0; i < size; i++) {
    const label = i % numClasses;
    labels[i] = label;
    drawImage(
      images,
      i * height * width * 3,
      height,
      width,
      period,
      label,
      numClasses,
      mulberry32(hashSeed(seed, i)),
    );
  }
  return createImageTable({ height, width, classNames, images, labels });
}

function drawImage(
  target: Uint8Array,
  start: number,
  height: number,
  width: number,
  period: number,
  label: number,
  numClasses: number,
  random: Random,
): void {
  const [red, green, blue] = classColour(label, numClasses);
  const angle = (Math.PI * label) / numClasses;
  const fx = (2 * Math.PI * Math.cos(angle)) / period;
  const fy = (2 * Math.PI * Math.sin(angle)) / period;
  const phase = random() * 2 * Math.PI;
  const brightness = (random() * 2 - 1) * BRIGHTNESS_JITTER;
  let out = start;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++, out += 3) {
      const shade = brightness + STRIPE_AMPLITUDE * Math.sin(fx * x + fy * y + phase);
      target[out] = clampByte(red + shade + (random() * 2 - 1) * NOISE);
      target[out + 1] = clampByte(green + shade + (random() * 2 - 1) * NOISE);
      target[out + 2] = clampByte(blue + shade + (random() * 2 - 1) * NOISE);
    }
  }
}

/** A saturated hue at position label/numClasses on the colour wheel, centred on mid-grey. */
function classColour(label: number, numClasses: number): [number, number, number] {
  const hue = (6 * label) / numClasses;
  const channel = (offset: number): number => {
    // Piecewise-linear HSV-to-RGB for full saturation and value, in [-1, 1].
    const k = (offset + hue) % 6;
    return 1 - 2 * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [
    128 + COLOUR_SPREAD * channel(5),
    128 + COLOUR_SPREAD * channel(3),
    128 + COLOUR_SPREAD * channel(1),
  ];
}

function clampByte(value: number): number {
  return value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
}
