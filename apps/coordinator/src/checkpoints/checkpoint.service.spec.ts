import * as assert from 'node:assert/strict';
import { ConflictException } from '@nestjs/common';
import { mulberry32 } from '@resnet/data';
import { initialWeights } from '@resnet/model';
import { modelPartitions, partitionedModel, PartitionedModelCodec } from '@resnet/job';
import { quietNestLogs } from '../../test/fixtures';
import { layoutsFor, testSpec } from '../../../../test/support/test-job-spec';
import { FakeCheckpointStore } from '../../test/repositories/checkpoint.store.mock';
import { FakeJobRepository } from '../../test/repositories/job.repository.mock';
import { Checkpoint, CheckpointStore } from '../repositories/checkpoint.store';
import { CheckpointService } from './checkpoint.service';

/** A checkpoint as CheckpointService.save writes one: the model whole, with random weights and momentum. */
function checkpoint(jobId: string, step: number, totalSteps = 10, partitions = 1): Checkpoint {
  const spec = testSpec({ totalSteps, partitions });
  const layouts = layoutsFor(spec);
  const whole = modelPartitions(layouts, 1);
  const random = mulberry32(step);
  const velocity = Float32Array.from({ length: layouts.params.size }, () => random() - 0.5);
  return {
    manifest: { jobId, step, spec, createdAt: 0 },
    weights: PartitionedModelCodec.encodeWeights(whole, initialWeights(layouts, random), {
      version: step,
    })[0],
    velocity: PartitionedModelCodec.encodeVelocity(whole, velocity)[0],
    metrics: { steps: [], evals: [] },
  };
}

function setUp() {
  const jobs = new FakeJobRepository();
  const store = new FakeCheckpointStore();
  const service = new CheckpointService(store as unknown as CheckpointStore, jobs.as());
  return { jobs, store, service };
}

describe('CheckpointService', () => {
  quietNestLogs();

  it('restores a job into Redis from its checkpoint', async () => {
    const { jobs, store, service } = setUp();
    store.put(checkpoint('a', 4));
    assert.equal(await service.restore('a/step-4'), 'a');
    assert.equal((await jobs.get('a'))?.state.step, 4);
  });

  it("restores a checkpoint into the job's partitions, each holding its part of the same numbers", async () => {
    const { jobs, store, service } = setUp();
    const saved = checkpoint('p', 4, 10, 3);
    store.put(saved);
    await service.restore('p/step-4');
    const { spec } = saved.manifest;
    const layouts = layoutsFor(spec);
    const { partitions } = partitionedModel(spec, layouts);
    const stored = await jobs.weights('p', spec, 4);
    assert.equal(stored.length, 3);
    const whole = modelPartitions(layouts, 1);
    assert.deepEqual(
      PartitionedModelCodec.decodeWeights(partitions, layouts, stored),
      PartitionedModelCodec.decodeWeights(whole, layouts, [saved.weights]),
    );
    assert.deepEqual(
      PartitionedModelCodec.decodeVelocity(partitions, await jobs.velocity('p', spec)),
      PartitionedModelCodec.decodeVelocity(whole, [saved.velocity]),
    );
  });

  it('refuses to restore over a job Redis still holds', async () => {
    const { jobs, store, service } = setUp();
    jobs.add('a', testSpec());
    store.put(checkpoint('a', 4));
    await assert.rejects(service.restore('a/step-4'), ConflictException);
  });

  it('brings back unfinished jobs gone from Redis from their latest checkpoint', async () => {
    const { jobs, store, service } = setUp();
    store.put(checkpoint('lost', 2));
    store.put(checkpoint('lost', 6));
    store.put(checkpoint('finished', 10));
    store.put(checkpoint('present', 2));
    jobs.add('present', testSpec());
    assert.deepEqual(await service.restoreLost(), ['lost']);
    assert.equal((await jobs.get('lost'))?.state.step, 6);
    assert.deepEqual(jobs.restored, ['lost']);
  });
});
