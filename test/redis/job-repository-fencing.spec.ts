import * as assert from 'node:assert/strict';
import { EvalMetrics, StepMetrics } from '@resnet/protocol';
import { FencedOffError } from '../../apps/coordinator/src/errors/leadership.errors';
import { testSpec } from '../support/test-job-spec';
import { StoredJob } from './stored-job';

/**
 * Every write of a training loop under a stale fencing token, on a real redis-server: refused with
 * FencedOffError, and every key reads back as it was. The leader's token is 2; the writes carry 1.
 */
for (const partitions of [1, 3]) {
  describe(`writes of a deposed leader, a job of ${partitions} partition(s)`, function () {
    let stored: StoredJob;
    let unchanged: Record<string, string>;

    before(async () => {
      stored = await StoredJob.start(testSpec({ partitions }));
    });
    after(async () => stored?.stop());
    beforeEach(async () => {
      await stored.reset(2);
      await stored.redis.hset(stored.keys.job('j'), 'status', 'running');
      await stored.stage(2, 1, 1);
      unchanged = await stored.snapshot();
    });
    afterEach(async () => {
      assert.deepEqual(await stored.snapshot(), unchanged, 'the refused write changed nothing');
    });

    it('setTrainingStatus is refused', async () => {
      await assert.rejects(stored.jobs.setTrainingStatus(1, 'j', 'failed', 'late'), FencedOffError);
      await assert.rejects(stored.jobs.setTrainingStatus(1, 'j', 'completed'), FencedOffError);
    });

    it('pushEval is refused', async () => {
      const metrics: EvalMetrics = { step: 1, epoch: 0, loss: 1, accuracy: 0.5, top5: 1, count: 16, at: 0 };
      await assert.rejects(stored.jobs.pushEval('j', metrics, 1), FencedOffError);
    });

    it('commitStep is refused, the staged version left to expire', async () => {
      const { jobs, keys, redis } = stored;
      const gradientKeys = Array.from({ length: partitions }, () => []);
      await assert.rejects(
        jobs.commitStep(
          {
            jobId: 'j',
            previous: 0,
            version: 1,
            partitions,
            metrics: { step: 1 } as StepMetrics,
            gradientKeys,
          },
          1,
        ),
        FencedOffError,
      );
      for (let p = 0; p < partitions; p++)
        assert.ok((await redis.ttl(keys.partition(p, partitions).weightsStaged('j', 1, 1))) > 0);
    });
  });
}
