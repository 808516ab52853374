import { promises as fs } from 'node:fs';
import { writeFileAtomically } from './dataset-cache';
import { isNotFound } from './fs-helpers';
import { createImageTable, ImageTable } from './image-table';

/*
 * Layout: 8-byte magic, uint32 LE header length, JSON header {height, width, size, classNames}
 * padded to a multiple of 4, labels as int32 LE, then the raw HWC image bytes.
 */
const MAGIC = Buffer.from('RNTABLE1', 'ascii');
const PREFIX_BYTES = MAGIC.length + 4;
/** Bounded chunks: a single read/write call cannot move more than 2 GiB. */
const CHUNK_BYTES = 64 * 1024 * 1024;

interface TableHeader {
  height: number;
  width: number;
  size: number;
  classNames: string[];
}

export async function writeTableFile(file: string, table: ImageTable): Promise<void> {
  const header: TableHeader = {
    height: table.height,
    width: table.width,
    size: table.size,
    classNames: [...table.classNames],
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const paddedJson = Buffer.alloc(align4(json.length), 0x20);
  json.copy(paddedJson);
  const prefix = Buffer.alloc(PREFIX_BYTES);
  MAGIC.copy(prefix);
  prefix.writeUInt32LE(paddedJson.length, MAGIC.length);
  const labels = Buffer.alloc(table.size * 4);
  table.labels.forEach((label, i) => labels.writeInt32LE(label, i * 4));

  await writeFileAtomically(file, async (handle) => {
    await handle.write(prefix);
    await handle.write(paddedJson);
    await handle.write(labels);
    for (let offset = 0; offset < table.images.length; offset += CHUNK_BYTES) {
      const chunk = table.images.subarray(offset, offset + CHUNK_BYTES);
      await handle.write(chunk, 0, chunk.length);
    }
  });
}

/** The table stored in `file`, or null if there is none or it is not a complete table file. */
export async function readTableFile(file: string): Promise<ImageTable | null> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
  try {
    const fileBytes = (await handle.stat()).size;
    const prefix = await readExactly(handle, 0, PREFIX_BYTES);
    if (prefix === null || !prefix.subarray(0, MAGIC.length).equals(MAGIC)) return null;
    const headerBytes = prefix.readUInt32LE(MAGIC.length);
    const json = await readExactly(handle, PREFIX_BYTES, headerBytes);
    if (json === null) return null;
    const header = parseHeader(json);
    if (header === null) return null;
    const labelsStart = PREFIX_BYTES + headerBytes;
    const imagesStart = labelsStart + header.size * 4;
    const imageBytes = header.size * header.height * header.width * 3;
    if (fileBytes !== imagesStart + imageBytes) return null;

    const labelBytes = await readExactly(handle, labelsStart, header.size * 4);
    if (labelBytes === null) return null;
    const images = new Uint8Array(imageBytes);
    for (let offset = 0; offset < imageBytes; offset += CHUNK_BYTES) {
      const length = Math.min(CHUNK_BYTES, imageBytes - offset);
      const { bytesRead } = await handle.read(images, offset, length, imagesStart + offset);
      if (bytesRead !== length) return null;
    }
    const labels = new Int32Array(header.size);
    for (let i = 0; i < header.size; i++) labels[i] = labelBytes.readInt32LE(i * 4);
    return createImageTable({
      height: header.height,
      width: header.width,
      classNames: header.classNames,
      images,
      labels,
    });
  } finally {
    await handle.close();
  }
}

async function readExactly(handle: fs.FileHandle, position: number, length: number): Promise<Buffer | null> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return bytesRead === length ? buffer : null;
}

function parseHeader(json: Buffer): TableHeader | null {
  try {
    return JSON.parse(json.toString('utf8')) as TableHeader;
  } catch {
    return null;
  }
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
