import { Random } from './random';

/** A rectangle of a source image, in whole pixels. */
export interface CropBox {
  readonly top: number;
  readonly left: number;
  readonly height: number;
  readonly width: number;
}

/** Area fraction and aspect-ratio range of torchvision's RandomResizedCrop defaults (Inception-style crops). */
export const RANDOM_RESIZED_CROP_SCALE: readonly [number, number] = [0.08, 1];
export const RANDOM_RESIZED_CROP_RATIO: readonly [number, number] = [3 / 4, 4 / 3];

/** The standard ImageNet evaluation crop: resize the shorter side to 256, keep the central 224. */
export const IMAGENET_EVAL_CROP_FRACTION = 224 / 256;

/** Python's round(): halves go to the even neighbour, so box sizes match torchvision's exactly. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

function uniform(random: Random, low: number, high: number): number {
  return low + (high - low) * random();
}

/** Uniform integer in [low, high), as torch.randint. */
function uniformInt(random: Random, low: number, high: number): number {
  return low + Math.floor(random() * (high - low));
}

/**
 * torchvision's RandomResizedCrop.get_params: up to 10 tries at a box covering a uniform fraction
 * `scale` of the image area with a log-uniform aspect ratio (width / height) in `ratio`, placed
 * uniformly; if none fits, the largest central box whose ratio is clamped into `ratio`.
 */
export function randomResizedCropBox(
  random: Random,
  height: number,
  width: number,
  scale: readonly [number, number] = RANDOM_RESIZED_CROP_SCALE,
  ratio: readonly [number, number] = RANDOM_RESIZED_CROP_RATIO,
): CropBox {
  const area = height * width;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])] as const;
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * uniform(random, scale[0], scale[1]);
    const aspect = Math.exp(uniform(random, logRatio[0], logRatio[1]));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = uniformInt(random, 0, height - h + 1);
      const left = uniformInt(random, 0, width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(...ratio)) {
    h = roundHalfEven(w / Math.min(...ratio));
  } else if (inRatio > Math.max(...ratio)) {
    w = roundHalfEven(h * Math.max(...ratio));
  }
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

export interface CentreCropGeometry {
  /** Size to resize the whole image to first, aspect ratio kept. */
  readonly resizeHeight: number;
  readonly resizeWidth: number;
  /** The target-sized box to keep from the resized image. */
  readonly crop: CropBox;
}

/**
 * Resize so the image just covers target / cropFraction, then keep the central target-sized box.
 * For a square target this is exactly torchvision's Resize(round(size / cropFraction)) then
 * CenterCrop(size): the shorter side is scaled to size / cropFraction, the longer one truncated.
 * cropFraction 224/256 is the ImageNet evaluation transform; 1 scales the image to just cover the
 * target.
 */
export function centreCropGeometry(
  height: number,
  width: number,
  target: readonly [number, number],
  cropFraction: number,
): CentreCropGeometry {
  if (!(cropFraction > 0 && cropFraction <= 1))
    throw new RangeError(`cropFraction must be in (0, 1], got ${cropFraction}`);
  const [targetHeight, targetWidth] = target;
  const coverHeight = Math.round(targetHeight / cropFraction);
  const coverWidth = Math.round(targetWidth / cropFraction);
  // The side needing the larger scale is set exactly; the other, scaled alike, is at least its cover size.
  const [resizeHeight, resizeWidth] =
    coverHeight * width >= coverWidth * height
      ? [coverHeight, Math.floor((width * coverHeight) / height)]
      : [Math.floor((height * coverWidth) / width), coverWidth];
  return {
    resizeHeight,
    resizeWidth,
    crop: {
      top: roundHalfEven((resizeHeight - targetHeight) / 2),
      left: roundHalfEven((resizeWidth - targetWidth) / 2),
      height: targetHeight,
      width: targetWidth,
    },
  };
}
