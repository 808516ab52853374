import * as assert from 'node:assert/strict';
import { mulberry32 } from '@resnet/data';
import { initialWeights, layoutsOf, ModelWeights } from '@resnet/model';
import { applyStep, lrAt, StepAggregator } from '@resnet/optimizer';
import { ShardMessageMeta } from '@resnet/protocol';
import {
  architectureOf,
  ModelPartition,
  ModelTensorCodec,
  partitionedModel,
  PartitionedModelCodec,
  partitionOf,
  scheduleOf,
  TrainingJobSpec,
} from '@resnet/job';
import { PushRequest, UnitResponse } from '@resnet/unit-transport';
import { FakeServiceRegistry } from '../test/fake-service-registry.repository';
import { FakeUnitLeases } from '../test/fake-unit-lease.repository';
import { FakeUnitStore } from '../test/fake-unit-store.repository';
import { testSpec } from '../../../test/support/test-job-spec';
import { SummationService } from './summation.service';

const SPEC: TrainingJobSpec = testSpec({
  optimizer: { momentum: 0.9, weightDecay: 1e-4, nesterov: false },
  aggregation: 'services',
  units: 2,
  partitions: 2,
});
const layouts = layoutsOf(architectureOf(SPEC));
const { partitions: units } = partitionedModel(SPEC, layouts);

/** A shard's gradient and batch statistics over the whole model, small and different per shard. */
function shardResult(shard: number): ModelWeights {
  const random = mulberry32(100 + shard);
  const params = Float32Array.from({ length: layouts.params.size }, () => (random() - 0.5) * 1e-2);
  const state = Float32Array.from({ length: layouts.state.size }, () => 0.5 + random());
  return { params, state };
}

function gradientUnit(unit: ModelPartition, shard: number, meta: Partial<ShardMessageMeta> = {}): Buffer {
  const part = partitionOf(unit, shardResult(shard));
  return ModelTensorCodec.encode(unit.layouts, part.params, part.state, {
    jobId: 'j',
    step: 0,
    shard,
    kind: 'gradient',
    partition: unit.index,
    ...meta,
  });
}

function push(shard: number, unit: number, over: Partial<PushRequest> = {}): PushRequest {
  return {
    op: 'push',
    jobId: 'j',
    step: 0,
    shard,
    unit,
    attempt: 0,
    epoch: 1,
    workerId: `w${shard}`,
    lossSum: 1 + shard,
    count: 4,
    correct: shard,
    ...over,
  };
}

function setUp(id = 's0', live = ['s0']) {
  const registry = new FakeServiceRegistry();
  registry.live = live.map((s, pid) => ({
    id: s,
    address: `h:${pid}`,
    machine: 'm',
    pid,
    lastSeen: Date.now(),
  }));
  registry.jobs = ['j'];
  const leases = new FakeUnitLeases();
  const store = new FakeUnitStore();
  store.specs.set('j', SPEC);
  store.leaseHolds = (value) => [...leases.held.values()].includes(value);
  const weights = initialWeights(layouts, mulberry32(7));
  const velocity = new Float32Array(layouts.params.size);
  units.forEach((u) =>
    store.durable.set(`j/${u.index}`, [
      {
        version: 0,
        weights: PartitionedModelCodec.encodeWeightsOf(u, units.length, weights, { version: 0 }),
        momentum: PartitionedModelCodec.encodeVelocityOf(u, velocity),
      },
    ]),
  );
  const service = new SummationService(
    { id, leaseMs: 3000 },
    registry.as(),
    leases.as(),
    store.as(),
    () => undefined,
  );
  return { service, registry, leases, store, weights, velocity };
}

async function answer(
  service: SummationService,
  request: PushRequest,
  payload: Buffer,
): Promise<UnitResponse> {
  return (await service.handle(request, payload)).response;
}

describe('SummationService', () => {
  it('takes an even share of a job’s units, starting at its place among the live services', async () => {
    const { service, leases } = setUp('s1', ['s0', 's1']);
    await service.tick();
    assert.deepEqual([...leases.held.entries()], [['j/1', 's1 1']]);
  });

  it('folds every shard, updates once, and reports each unit’s epoch and hash with the shards’ totals', async () => {
    const { service, store, weights, velocity } = setUp();
    await service.tick();
    // Out of order: shard 1 waits for shard 0.
    for (const shard of [1, 0])
      for (const u of units)
        assert.deepEqual(await answer(service, push(shard, u.index), gradientUnit(u, shard)), { ok: true });
    assert.equal(store.reports.length, 1);
    const [report] = store.reports;
    assert.deepEqual(
      report.shards.map((s) => [s.shard, s.lossSum, s.count, s.workerId]),
      [
        [0, 1, 4, 'w0'],
        [1, 2, 4, 'w1'],
      ],
    );
    assert.deepEqual(
      report.units.map((u) => [u.unit, u.epoch]),
      [
        [0, 1],
        [1, 1],
      ],
    );
    // The reference: the whole model's step in one process.
    const whole = new StepAggregator(
      layouts.params.size,
      2,
      layouts.batchNorms.map((b) => b.channels),
    );
    for (const shard of [0, 1]) {
      const r = shardResult(shard);
      whole.add(shard, {
        gradientSum: r.params,
        batchStats: r.state,
        count: 4,
        lossSum: 1 + shard,
        correct: shard,
      });
    }
    const next = applyStep(
      weights,
      velocity,
      whole.result(),
      lrAt(scheduleOf(SPEC), 0),
      SPEC.optimizer,
      layouts.batchNorms.map((b) => b.channels),
    );
    for (const u of units) {
      const pulled = await service.handle(
        { op: 'pull', jobId: 'j', unit: u.index, version: 1, attempt: 0 },
        Buffer.alloc(0),
      );
      assert.deepEqual(pulled.response, { ok: true });
      const got = ModelTensorCodec.decode(u.layouts, pulled.payload!);
      const want = partitionOf(u, next);
      assert.deepEqual(
        Buffer.from(got.params.buffer, got.params.byteOffset, got.params.byteLength),
        Buffer.from(want.params.buffer, want.params.byteOffset, want.params.byteLength),
      );
      assert.deepEqual([...got.state], [...want.state]);
    }
  });

  it('refuses units of another epoch or step, and unusable ones as the worker’s fault; a second copy counts once', async () => {
    const { service, store } = setUp();
    await service.tick();
    const [u0] = units;
    const staleEpoch = await answer(service, push(0, 0, { epoch: 2 }), gradientUnit(u0, 0));
    assert.equal(staleEpoch.ok, false);
    assert.ok(!staleEpoch.ok && !staleEpoch.workersFault && /epoch 1, not 2/.test(staleEpoch.reason));
    const corrupt = gradientUnit(u0, 0);
    corrupt[corrupt.length - 20] ^= 0xff;
    const refused = await answer(service, push(0, 0), corrupt);
    assert.ok(!refused.ok && refused.workersFault && /unusable/.test(refused.reason));
    const otherStep = await answer(service, push(0, 0, { step: 1 }), gradientUnit(u0, 0, { step: 1 }));
    assert.ok(!otherStep.ok && !otherStep.workersFault && /version 0, not at step 1/.test(otherStep.reason));
    const misaddressed = await answer(service, push(0, 0), gradientUnit(u0, 1, { shard: 1 }));
    assert.ok(!misaddressed.ok && misaddressed.workersFault && /addressed to/.test(misaddressed.reason));
    for (const shard of [0, 0, 1])
      for (const u of units)
        assert.deepEqual(await answer(service, push(shard, u.index), gradientUnit(u, shard)), { ok: true });
    assert.equal(store.reports.length, 1);
    assert.equal(store.reports[0].shards.length, 2);
  });

  it('a higher attempt restarts the step, or takes the unit back to a durable version; a lower one is refused', async () => {
    const { service, store } = setUp();
    await service.tick();
    const pushAll = async (step: number, attempt: number) => {
      for (const shard of [0, 1])
        for (const u of units)
          assert.deepEqual(
            await answer(service, push(shard, u.index, { step, attempt }), gradientUnit(u, shard, { step })),
            { ok: true },
          );
    };
    await pushAll(0, 0);
    const first = store.reports[0].units.map((u) => u.hash);
    // A service elsewhere was lost: the step is redone under attempt 1, to the same result.
    await pushAll(0, 1);
    assert.deepEqual(
      store.reports[1].units.map((u) => u.hash),
      first,
    );
    assert.equal(store.reports[1].attempt, 1);
    service.committed('j', 1);
    await pushAll(1, 1);
    const stale = await answer(service, push(0, 0, { attempt: 0 }), gradientUnit(units[0], 0));
    assert.ok(!stale.ok && /superseded by 1/.test(stale.reason));
    const stepOne = store.reports[2].units.map((u) => u.hash);
    service.committed('j', 2);
    await new Promise((r) => setTimeout(r, 20)); // the durable writes of versions 1 and 2
    // Rolled back to version 1: its step again, under attempt 2, from the durable units, gives the same hashes.
    await pushAll(1, 2);
    assert.deepEqual(
      store.reports[3].units.map((u) => u.hash),
      stepOne,
    );
    assert.deepEqual(
      store.durable.get('j/0')!.map((d) => d.version),
      [0, 1, 2],
    );
  });

  it('after the commit serves the new version and writes it durable; a lost lease stops serving and writing', async () => {
    const { service, store, leases } = setUp();
    await service.tick();
    for (const shard of [0, 1])
      for (const u of units) await answer(service, push(shard, u.index), gradientUnit(u, shard));
    service.committed('j', 1);
    await service.close(); // waits for the durable writes (and gives the leases back)
    assert.deepEqual(
      units.map((u) => store.durable.get(`j/${u.index}`)!.map((d) => d.version)),
      [
        [0, 1],
        [0, 1],
      ],
    );
    const { service: again, leases: others } = setUp();
    await again.tick();
    others.steal('j', 0, 's9');
    await again.tick();
    const pulled = await again.handle(
      { op: 'pull', jobId: 'j', unit: 0, version: 0, attempt: 0 },
      Buffer.alloc(0),
    );
    assert.ok(!pulled.response.ok && /does not hold unit 0/.test(pulled.response.reason));
    assert.equal(leases.held.size, 0, 'close() gave the leases back');
  });
});
