import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import { BadRequestException } from '@nestjs/common';
import { CoordinatorConfig } from '../coordinator.config';
import { CreateJobDto } from './dto/create-job.dto';
import { DatasetPreparations } from './dataset-preparations';
import { JobSpecFactory } from './job-spec.factory';
import { layoutsOf } from '@resnet/model';
import { ServiceInfo } from '@resnet/protocol';
import { architectureOf } from '@resnet/job';
import { SummationServicesRepository } from '../repositories/summation-services.repository';

const config = { dataRoot: os.tmpdir() } as CoordinatorConfig;
const SMALL = { kind: 'synthetic', trainSize: 64, testSize: 16, imageSize: 8, numClasses: 3 } as const;

/** Summation services alive, as the factory reads them to size a services job's units. */
class FakeSummationServices {
  constructor(readonly live: number) {}

  async liveServices(): Promise<ServiceInfo[]> {
    return Array.from({ length: this.live }, (_, i) => ({
      id: `s${i}`,
      address: `h:${i}`,
      machine: 'm',
      pid: i,
      lastSeen: Date.now(),
    }));
  }
}

function build(request: Partial<CreateJobDto>, liveServices = 0) {
  const services = new FakeSummationServices(liveServices) as unknown as SummationServicesRepository;
  return new JobSpecFactory(config, services, new DatasetPreparations()).build({
    dataset: SMALL,
    batchSize: 16,
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

  it('sizes a services job at 2 units per live service (ResNet-20 is far below 4 MB a unit), stored as as many partitions', async () => {
    const one = await build({ aggregation: 'services' }, 1);
    assert.deepEqual([one.aggregation, one.units, one.partitions], ['services', 2, 2]);
    const three = await build({ aggregation: 'services' }, 3);
    assert.equal(three.units, 6);
    assert.equal((await build({ aggregation: 'services', units: 5 }, 3)).units, 5);
    // ResNet-50's parameters (94 MB with 3 classes): as many units as 4 MiB shares.
    const big = await build({ aggregation: 'services', model: 'resnet50' }, 1);
    const bytes = layoutsOf(architectureOf(big)).params.size * 4;
    assert.equal(big.units, Math.ceil(bytes / (4 * 2 ** 20)));
    assert.ok(big.units! > 2);
  });

  it('refuses what a services job cannot run, naming the fix', async () => {
    const refused = async (request: Partial<CreateJobDto>, pattern: RegExp) =>
      assert.rejects(build(request, 1), (err: Error) => {
        assert.ok(err instanceof BadRequestException, String(err));
        assert.match(err.message, pattern);
        return true;
      });
    await refused({ aggregation: 'services', partitions: 2 }, /set units instead/);
    await refused({ aggregation: 'services', gradientEncoding: 'fp16' }, /needs gradientEncoding fp32/);
    await refused({ aggregation: 'services', localSteps: 2 }, /set localSteps to 1/);
    await refused(
      { aggregation: 'services', model: 'resnet18', units: 64 },
      /exceeds the 62 parameter tensors/,
    );
    await refused({ units: 4 }, /only with aggregation "services"/);
    await refused({ shardsPerStep: 4, foldGroup: 5 }, /give 1 to 4/);
  });

  it('keeps a fold group when given, and leaves coordinator jobs as they were', async () => {
    assert.equal((await build({ shardsPerStep: 4, foldGroup: 2 })).foldGroup, 2);
    const plain = await build({});
    assert.equal(plain.aggregation, undefined);
    assert.equal(plain.foldGroup, undefined);
  });
});
