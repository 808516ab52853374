import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { onednnAvailable } from '@resnet/engine';
import { EVAL_IMAGES, EvaluationMemory, RESULT_PREFIX, TRAIN_SHARD } from './evaluation-memory.child';

/** Evaluation's peak RSS may exceed training's by this factor at most. */
const MAX_RATIO = 1.2;

describe('evaluation memory', function () {
  // onednn is what CPU workers run; wasm where the addon is not built.
  const backend = onednnAvailable() ? 'onednn' : 'wasm';

  it(`evaluates ${EVAL_IMAGES} images on ${backend} within ${MAX_RATIO}× the peak RSS of training shards of ${TRAIN_SHARD}`, () => {
    const child = spawnSync(process.execPath, [path.join(__dirname, 'evaluation-memory.child.js'), backend], {
      encoding: 'utf8',
    });
    const line = child.stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
    assert.ok(line, `the measuring process failed: ${child.stderr.trim().split('\n').slice(-5).join('\n')}`);
    const m = JSON.parse(line.slice(RESULT_PREFIX.length)) as EvaluationMemory;
    const ratio = m.evaluationPeakKiB / m.trainingPeakKiB;
    console.log(
      `      ${m.backend}: training peak ${(m.trainingPeakKiB / 1024).toFixed(0)} MiB, with evaluation ${(m.evaluationPeakKiB / 1024).toFixed(0)} MiB (${ratio.toFixed(2)}×)`,
    );
    assert.equal(m.evaluated, EVAL_IMAGES);
    assert.ok(
      ratio <= MAX_RATIO,
      `evaluation raised the peak RSS ${ratio.toFixed(2)}×, more than ${MAX_RATIO}×`,
    );
  });
});
