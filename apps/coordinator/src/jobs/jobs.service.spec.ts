import * as assert from 'node:assert/strict';
import { Logger } from '@nestjs/common';
import { captureNestLogs } from '../../test/fixtures';
import { FakeJobRepository } from '../../test/repositories/job.repository.mock';
import { testSpec } from '../../../../test/support/test-job-spec';
import { CheckpointService } from '../checkpoints/checkpoint.service';
import { TrainingService } from '../training/training.service';
import { WorkersService } from '../workers/workers.service';
import { CreateJobDto } from './dto/create-job.dto';
import { JobSpecFactory } from './job-spec.factory';
import { JobsService } from './jobs.service';

describe('JobsService', () => {
  afterEach(() => Logger.overrideLogger(false));

  it('logs a submitted job with its id, name and steps', async () => {
    const lines = captureNestLogs();
    const jobs = new FakeJobRepository();
    let scheduled = 0;
    const service = new JobsService(
      jobs.as(),
      { build: async () => testSpec({ name: 'second job', totalSteps: 4 }) } as unknown as JobSpecFactory,
      { schedule: async () => void scheduled++ } as unknown as TrainingService,
      {} as CheckpointService,
      { unavailability: async () => ({ fp32: null, bf16: null }) } as unknown as WorkersService,
    );
    const job = await service.create({} as CreateJobDto);
    assert.equal(jobs.jobs.get(job.id)!.state.status, 'queued');
    assert.equal(scheduled, 1);
    assert.deepEqual(lines, [
      {
        level: 'log',
        job: job.id,
        jobName: 'second job',
        event: 'submitted',
        msg: `job ${job.id} (second job) submitted: 4 steps`,
      },
    ]);
  });
});
