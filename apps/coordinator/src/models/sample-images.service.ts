import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import sharp from 'sharp';
import {
  DatasetRef,
  DatasetSplits,
  imageAt,
  ImageTable,
  OnDemandImageFolder,
  openDatasetSplits,
} from '@resnet/data';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';
import { SampleImagesDto } from './dto/sample-images.dto';

/**
 * A few test images of a dataset, for a model's page to show with their predictions. The last
 * dataset opened is kept: a page asks again on every load, and a real dataset takes seconds to open.
 */
@Injectable()
export class SampleImagesService {
  private last: { key: string; splits: Promise<DatasetSplits> } | null = null;

  constructor(@Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig) {}

  /** `count` test images spread evenly over the split, so that every class shows up. */
  async samples(dataset: DatasetRef, count: number): Promise<SampleImagesDto> {
    const { test } = await this.open(dataset);
    if (test instanceof OnDemandImageFolder) {
      throw new NotFoundException(
        'sample images come only from datasets decoded into memory (synthetic or folder), not from an imagenet-folder',
      );
    }
    const indices = Array.from({ length: Math.min(count, test.size) }, (_, i) =>
      Math.floor((i * test.size) / Math.min(count, test.size)),
    );
    return {
      classNames: [...test.classNames],
      images: await Promise.all(
        indices.map(async (index) => ({
          index,
          label: test.labels[index],
          png: await pngDataUrl(test, index),
        })),
      ),
    };
  }

  private open(dataset: DatasetRef): Promise<DatasetSplits> {
    const key = JSON.stringify(dataset);
    if (this.last?.key !== key) {
      const entry = { key, splits: openDatasetSplits(dataset, this.config.dataRoot) };
      this.last = entry;
      entry.splits.catch(() => {
        if (this.last === entry) this.last = null;
      });
    }
    return this.last!.splits.catch((err: Error) => {
      throw new NotFoundException(`the model's dataset cannot be opened here: ${err.message}`);
    });
  }
}

async function pngDataUrl(table: ImageTable, index: number): Promise<string> {
  const png = await sharp(imageAt(table, index), {
    raw: { width: table.width, height: table.height, channels: 3 },
  })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}
