import * as assert from 'node:assert/strict';
import { Logger } from '@nestjs/common';
import { CoordinatorConfig } from '../coordinator.config';
import { DatasetPreparations } from './dataset-preparations';
import { PreparationConsole } from './preparation-console';

/** Nest's log lines from now until the logger is overridden again. */
function captureLines(): string[] {
  const lines: string[] = [];
  const keep = (message: unknown): void => void lines.push(String(message));
  Logger.overrideLogger({ log: keep, error: keep, warn: keep, debug: keep, verbose: keep });
  return lines;
}

describe('PreparationConsole', () => {
  afterEach(() => Logger.overrideLogger(false));

  it('logs progress lines where no terminal shows a bar: extraction, images decoded, and the end', async () => {
    const lines = captureLines();
    const preparations = new DatasetPreparations();
    new PreparationConsole({ logFormat: 'json' } as CoordinatorConfig, preparations).onModuleInit();
    await preparations.track('tiny.tar.gz', 'resnet20 on tiny.tar.gz', async (onProgress) => {
      onProgress({ split: 'train', phase: 'extracting', done: 0, total: 0 });
      onProgress({ split: 'test', phase: 'extracting', done: 0, total: 0 });
      onProgress({ split: 'train', phase: 'decoding', done: 0, total: 50 });
      onProgress({ split: 'test', phase: 'decoding', done: 0, total: 10 });
      for (let done = 1; done <= 50; done++)
        onProgress({ split: 'train', phase: 'decoding', done, total: 50 });
      for (let done = 1; done <= 10; done++)
        onProgress({ split: 'test', phase: 'decoding', done, total: 10 });
    });
    // The next line would come 5 s after the first: this one took less.
    assert.deepEqual(lines, [
      'preparing tiny.tar.gz for resnet20 on tiny.tar.gz: extracting the archive',
      'tiny.tar.gz: 60 images decoded; cached for the next runs (DATA_CACHE_DIR)',
    ]);
    assert.deepEqual(preparations.list(), []);
  });

  it('says nothing for a dataset read from the cache, nor for one that fails', async () => {
    const lines = captureLines();
    const preparations = new DatasetPreparations();
    new PreparationConsole({ logFormat: 'json' } as CoordinatorConfig, preparations).onModuleInit();
    await preparations.track('cached', 'job', async () => undefined);
    await assert.rejects(
      preparations.track('broken', 'job', async (onProgress) => {
        onProgress({ split: 'train', phase: 'decoding', done: 0, total: 5 });
        onProgress({ split: 'test', phase: 'decoding', done: 0, total: 5 });
        onProgress({ split: 'train', phase: 'decoding', done: 1, total: 5 });
        throw new Error('undecodable image');
      }),
      /undecodable image/,
    );
    assert.deepEqual(lines, ['preparing broken for job: 0/10 images decoded (0%)']);
  });
});
