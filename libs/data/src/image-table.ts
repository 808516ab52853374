/** An in-memory labelled image set; every image has the same size and 3 channels (RGB). */
export interface ImageTable {
  readonly height: number;
  readonly width: number;
  readonly channels: 3;
  readonly classNames: readonly string[];
  /** size * height * width * 3 bytes, each image in HWC order, RGB. */
  readonly images: Uint8Array;
  /** Class index per image, in [0, classNames.length). */
  readonly labels: Int32Array;
  readonly size: number;
}

export interface ImageTableContents {
  height: number;
  width: number;
  classNames: readonly string[];
  images: Uint8Array;
  labels: Int32Array;
}

/**
 * Builds a table after checking that the buffers agree with the shape, so a reader bug or a
 * corrupt cache file surfaces here instead of as garbage pixels during training.
 */
export function createImageTable(contents: ImageTableContents): ImageTable {
  const { height, width, classNames, images, labels } = contents;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new RangeError(`image size must be positive integers, got ${height}x${width}`);
  }
  const size = labels.length;
  if (images.length !== size * height * width * 3) {
    throw new RangeError(
      `images holds ${images.length} bytes but ${size} images of ${height}x${width}x3 need ${size * height * width * 3}`,
    );
  }
  for (let i = 0; i < size; i++) {
    if (labels[i] < 0 || labels[i] >= classNames.length) {
      throw new RangeError(`label ${labels[i]} of image ${i} is outside the ${classNames.length} classes`);
    }
  }
  return { height, width, channels: 3, classNames, images, labels, size };
}

/** Image i as an HWC RGB view into table.images (no copy). */
export function imageAt(table: ImageTable, i: number): Uint8Array {
  if (!Number.isInteger(i) || i < 0 || i >= table.size) {
    throw new RangeError(`image index ${i} is outside the table of ${table.size} images`);
  }
  const bytes = table.height * table.width * 3;
  return table.images.subarray(i * bytes, (i + 1) * bytes);
}
