import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

export async function makeTempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `resnet-data-${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
}

/** A CIFAR record whose pixel p of channel c is (seed + 3p + c) % 256, with the label first. */
export function cifarRecord(label: number, seed: number): Uint8Array {
  const record = new Uint8Array(3073);
  record[0] = label;
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < 1024; p++) record[1 + c * 1024 + p] = (seed + 3 * p + c) % 256;
  }
  return record;
}

/** Five train batches and a test batch of `perFile` records; record r of file f has label (f + r) % 10. */
export async function writeCifarBinary(folder: string, perFile: number): Promise<void> {
  await fs.mkdir(folder, { recursive: true });
  const names = [
    'data_batch_1',
    'data_batch_2',
    'data_batch_3',
    'data_batch_4',
    'data_batch_5',
    'test_batch',
  ];
  for (const [f, name] of names.entries()) {
    const records = Array.from({ length: perFile }, (_, r) => cifarRecord((f + r) % 10, 17 * f + r));
    await fs.writeFile(path.join(folder, `${name}.bin`), Buffer.concat(records));
  }
}

/** An RGB image of height x width whose pixel (y, x) is [base + y, base + x, base + y + x]. */
export function gradientPixels(height: number, width: number, base: number): Buffer {
  const pixels = Buffer.alloc(height * width * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      pixels.set([base + y, base + x, base + y + x], (y * width + x) * 3);
    }
  }
  return pixels;
}

export async function writeImage(
  file: string,
  pixels: Buffer,
  height: number,
  width: number,
  format: 'png' | 'jpeg',
): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const image = sharp(pixels, { raw: { width, height, channels: 3 } });
  await (format === 'png' ? image.png() : image.jpeg({ quality: 95 })).toFile(file);
}

/**
 * root/train/{cat,dog}/ and root/test/{cat,dog}/ with 4x4 images: PNGs whose pixels are
 * gradientPixels(4, 4, base) and one JPEG per train class.
 */
export async function writeImageFolder(root: string): Promise<void> {
  const size = 4;
  await writeImage(path.join(root, 'train/cat/b.png'), gradientPixels(size, size, 20), size, size, 'png');
  await writeImage(path.join(root, 'train/cat/a.png'), gradientPixels(size, size, 10), size, size, 'png');
  await writeImage(path.join(root, 'train/cat/c.jpg'), gradientPixels(size, size, 30), size, size, 'jpeg');
  await writeImage(path.join(root, 'train/dog/x.jpeg'), gradientPixels(size, size, 40), size, size, 'jpeg');
  await writeImage(path.join(root, 'train/dog/y.png'), gradientPixels(size, size, 50), size, size, 'png');
  await writeImage(path.join(root, 'test/cat/t.png'), gradientPixels(size, size, 60), size, size, 'png');
  await writeImage(path.join(root, 'test/dog/u.png'), gradientPixels(size, size, 70), size, size, 'png');
}
