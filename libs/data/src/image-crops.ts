import sharp, { Sharp } from 'sharp';
import { centreCropGeometry, randomResizedCropBox } from './crop-geometry';
import { undecodable } from './image-folder-files';
import { copyNormalised, normalisationTable } from './pixel-normalisation';
import { Random } from './random';

// Decoding one image file straight to a model-sized crop, so that a large JPEG never sits in
// memory as a full-resolution table row. EXIF orientation is ignored, as torchvision's PIL loader
// does; resampling is bilinear, torchvision's default (libvips places enlarged pixels half an
// output pixel off PIL's grid, which is immaterial for random crops and small images).

async function cropOf(
  file: string,
  [targetHeight, targetWidth]: readonly [number, number],
  transform: (image: Sharp, height: number, width: number) => Sharp,
): Promise<Uint8Array> {
  try {
    const image = sharp(file);
    const { height, width } = await image.metadata();
    // Greyscale, CMYK, palette, 16-bit and alpha images all come out as 8-bit RGB.
    const rgb = image.removeAlpha().toColourspace('srgb');
    const { data, info } = await transform(rgb, height, width).raw().toBuffer({ resolveWithObject: true });
    if (info.height !== targetHeight || info.width !== targetWidth || info.channels !== 3) {
      throw new Error(
        `decoded to ${info.height}x${info.width}x${info.channels} instead of ${targetHeight}x${targetWidth}x3`,
      );
    }
    return data;
  } catch (error) {
    throw undecodable(file, error);
  }
}

/** Training crop: a RandomResizedCrop box drawn from `random`, resized to size × size. */
export function randomResizedCrop(file: string, size: number, random: Random): Promise<Uint8Array> {
  return cropOf(file, [size, size], (image, height, width) =>
    image
      .extract(randomResizedCropBox(random, height, width))
      .resize(size, size, { fit: 'fill', kernel: 'linear' }),
  );
}

/** Evaluation crop to target [height, width]: see centreCropGeometry (cropFraction 224/256 for ImageNet, 1 to just cover). */
export function centreCrop(
  file: string,
  target: readonly [number, number],
  cropFraction: number,
): Promise<Uint8Array> {
  return cropOf(file, target, (image, height, width) => {
    const geometry = centreCropGeometry(height, width, target, cropFraction);
    // sharp extracts after resizing when extract() follows resize().
    return image
      .resize(geometry.resizeWidth, geometry.resizeHeight, { fit: 'fill', kernel: 'linear' })
      .extract(geometry.crop);
  });
}

/** One image as a model's input: centreCrop, then normalised per channel (HWC float32), as evaluation batches are. */
export async function normalisedCentreCrop(
  file: string,
  target: readonly [number, number],
  cropFraction: number,
  normalization: { readonly mean: readonly number[]; readonly std: readonly number[] },
): Promise<Float32Array> {
  const [height, width] = target;
  const pixels = await centreCrop(file, target, cropFraction);
  const values = new Float32Array(height * width * 3);
  const lookup = normalisationTable(normalization.mean, normalization.std);
  copyNormalised(pixels, 0, values, 0, height, width, 0, 0, false, lookup);
  return values;
}
