import * as assert from 'node:assert/strict';
import { LrSchedule, lrAt, peakLr } from '@resnet/optimizer';
import { testSpec } from '../support/test-job-spec';

/** The unit tests' job's schedule (lr 0.1, constant, no warmup) over 100 steps of batch 128. */
const base: LrSchedule = { ...testSpec().schedule, batchSize: 128, totalSteps: 100 };

const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `expected ${expected}, got ${actual}`);

describe('learning-rate schedules', () => {
  it('linear warmup climbs to the peak on the last warmup step', () => {
    const s = { ...base, warmupSteps: 4 };
    [0.025, 0.05, 0.075, 0.1, 0.1].forEach((lr, step) => close(lrAt(s, step), lr));
  });

  it('step decay divides by 10 at each milestone (the paper: 32k and 48k iterations)', () => {
    const s: LrSchedule = { ...base, decay: 'step', milestones: [32000, 48000], totalSteps: 64000 };
    close(lrAt(s, 0), 0.1);
    close(lrAt(s, 31999), 0.1);
    close(lrAt(s, 32000), 0.01);
    close(lrAt(s, 47999), 0.01);
    close(lrAt(s, 48000), 0.001);
    close(lrAt(s, 63999), 0.001);
  });

  it('cosine decays from the peak to zero after warmup, as the reference script', () => {
    const s: LrSchedule = { ...base, decay: 'cosine', warmupSteps: 10, totalSteps: 110 };
    close(lrAt(s, 9), 0.1);
    close(lrAt(s, 10), 0.1);
    close(lrAt(s, 60), 0.05); // half way through the 100 decay steps: cos(pi/2) = 0
    close(lrAt(s, 35), 0.1 * 0.5 * (1 + Math.SQRT1_2)); // a quarter: cos(pi/4)
    close(lrAt(s, 110), 0);
  });

  it('matches the PyTorch reference lr_at for 5 CIFAR epochs of batch 128', () => {
    const total = 5 * 390;
    const w = Math.floor(total / 10);
    const s: LrSchedule = { ...base, decay: 'cosine', warmupSteps: w, totalSteps: total };
    const torchLrAt = (t: number) =>
      t < w ? (0.1 * (t + 1)) / w : 0.1 * 0.5 * (1 + Math.cos((Math.PI * (t - w)) / Math.max(1, total - w)));
    for (const t of [0, 1, 100, 194, 195, 196, 1000, 1949]) close(lrAt(s, t), torchLrAt(t));
  });

  it('applies the linear scaling rule: lr proportional to the global batch', () => {
    const s: LrSchedule = { ...base, referenceBatch: 256, batchSize: 1024, warmupSteps: 5 };
    close(peakLr(s), 0.4);
    close(lrAt(s, 0), 0.08);
    close(lrAt(s, 4), 0.4);
    close(lrAt(s, 50), 0.4);
    close(peakLr({ ...s, batchSize: 64 }), 0.025);
  });
});
