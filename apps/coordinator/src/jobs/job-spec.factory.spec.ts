import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import { BadRequestException } from '@nestjs/common';
import { CoordinatorConfig } from '../coordinator.config';
import { CreateJobDto } from './dto/create-job.dto';
import { DatasetPreparations } from './dataset-preparations';
import { JobSpecFactory } from './job-spec.factory';

const config = { dataRoot: os.tmpdir() } as CoordinatorConfig;
const SMALL = { kind: 'synthetic', trainSize: 64, testSize: 16, imageSize: 8, numClasses: 3 } as const;

function build(request: Partial<CreateJobDto>) {
  return new JobSpecFactory(config, new DatasetPreparations()).build({
    dataset: SMALL,
    ...request,
  } as CreateJobDto);
}

describe('JobSpecFactory', () => {
  it('fills every default and derives the rest from the dataset', async () => {
    const spec = await build({ batchSize: 16 });
    assert.equal(spec.model, 'resnet20');
    assert.equal(spec.shortcut, 'projection');
    assert.equal(spec.shardsPerStep, 2);
    assert.equal(spec.gradientEncoding, 'fp32');
    assert.equal(spec.localSteps, 1);
    assert.deepEqual(spec.optimizer, { momentum: 0.9, weightDecay: 1e-4, nesterov: false });
    assert.deepEqual(spec.schedule, {
      lr: 0.1,
      warmupSteps: 0,
      decay: 'cosine',
      milestones: [],
      factor: 0.1,
      referenceBatch: null,
    });
    assert.deepEqual(spec.augment, { padCrop: 4, flip: true });
    assert.equal(spec.numClasses, 3);
    assert.deepEqual(spec.imageShape, [8, 8]);
    assert.equal(spec.stepsPerEpoch, 4);
    assert.equal(spec.totalSteps, 4);
    assert.equal(spec.checkpointEvery, 4);
    assert.equal(spec.evalShardSize, 1000);
    assert.equal(spec.name, 'resnet20 on synthetic data');
  });

  it('turns epochs into steps, capped by maxSteps, and schedule epochs into steps', async () => {
    const spec = await build({
      batchSize: 16,
      epochs: 2.5,
      schedule: { decay: 'step', milestones: [1, 2], warmupEpochs: 0.5 },
    } as Partial<CreateJobDto>);
    assert.equal(spec.totalSteps, 10);
    assert.deepEqual(spec.schedule.milestones, [4, 8]);
    assert.equal(spec.schedule.warmupSteps, 2);
    assert.equal((await build({ batchSize: 16, epochs: 3, maxSteps: 5 })).totalSteps, 5);
  });

  it('answers 400 when a step would need more shards than samples', async () => {
    await assert.rejects(build({ batchSize: 4, shardsPerStep: 8 }), BadRequestException);
  });

  it('answers 400 naming the dataset when its folder does not exist', async () => {
    await assert.rejects(build({ dataset: { kind: 'folder', path: 'no-such-dataset' } }), (err: Error) => {
      assert.ok(err instanceof BadRequestException);
      assert.match(err.message, /^dataset: /);
      return true;
    });
  });
});
