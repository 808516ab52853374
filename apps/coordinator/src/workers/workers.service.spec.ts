import * as assert from 'node:assert/strict';
import { Precision, WorkerInfo } from '@resnet/protocol';
import { quietNestLogs } from '../../test/fixtures';
import { CoordinatorConfig } from '../coordinator.config';
import { WorkerRegistryRepository } from '../repositories/worker-registry.repository';
import { WorkersService } from './workers.service';

const NOW = 1_000_000_000;

function worker(id: string, lastSeen: number, precisions: Precision[] = ['fp32']): WorkerInfo {
  return {
    id,
    host: 'h',
    pid: 1,
    backend: 'wasm',
    device: 'cpu',
    precisions,
    imagesPerSecond: null,
    currentShard: null,
    startedAt: 0,
    lastSeen,
  };
}

/** Heartbeats, faults and quarantine in memory, as WorkerRegistryRepository keeps them in Redis. */
function setUp(workers: WorkerInfo[], quarantined: string[] = []) {
  const faults = new Map<string, number>();
  const quarantine = new Set(quarantined);
  const registry = {
    heartbeats: async () => workers,
    forget: async () => undefined,
    quarantined: async () => new Set(quarantine),
    countFault: async (id: string) => {
      faults.set(id, (faults.get(id) ?? 0) + 1);
      return faults.get(id)!;
    },
    quarantine: async (id: string) => void quarantine.add(id),
    release: async (id: string) => {
      faults.delete(id);
      return quarantine.delete(id);
    },
  } as unknown as WorkerRegistryRepository;
  const config = { workerFaults: { quarantineAfter: 2, windowMs: 1000 } } as CoordinatorConfig;
  return { service: new WorkersService(registry, config), quarantine };
}

describe('WorkersService', () => {
  quietNestLogs();

  it('quarantines a worker at the configured count of rejected results, and a release lifts it', async () => {
    const { service, quarantine } = setUp([worker('w', NOW)]);
    await service.recordRejectedResult('w', 'corrupt');
    assert.equal(quarantine.has('w'), false);
    await service.recordRejectedResult('w', 'corrupt');
    assert.equal(quarantine.has('w'), true);
    assert.deepEqual(await service.release('w'), { id: 'w', wasQuarantined: true });
    assert.equal(quarantine.has('w'), false);
    await assert.rejects(service.release('nobody'), /no worker nobody is quarantined/);
  });

  it('says why no worker can take shards: quarantined or gone', async () => {
    assert.equal((await setUp([worker('a', NOW)]).service.unavailability(NOW)).fp32, null);
    assert.match(
      (await setUp([worker('a', NOW), worker('b', NOW - 60_000)], ['a']).service.unavailability(NOW)).fp32!,
      /^no worker can take shards: a is quarantined \(release with POST \/workers\/<id>\/release.*1 gone/,
    );
    assert.match((await setUp([]).service.unavailability(NOW)).fp32!, /no worker has joined/);
  });

  it('says why no worker can take a bf16 job: none alive computes bf16', async () => {
    const fp32Only = await setUp([worker('a', NOW)]).service.unavailability(NOW);
    assert.equal(fp32Only.fp32, null);
    assert.match(
      fp32Only.bf16!,
      /^no alive worker computes bf16: start onednn workers on CPUs with native bf16/,
    );
    const gone = await setUp([
      worker('a', NOW),
      worker('b', NOW - 60_000, ['fp32', 'bf16']),
    ]).service.unavailability(NOW);
    assert.match(gone.bf16!, /no alive worker computes bf16/);
    const both = await setUp([worker('a', NOW), worker('b', NOW, ['fp32', 'bf16'])]).service.unavailability(
      NOW,
    );
    assert.deepEqual(both, { fp32: null, bf16: null });
    const quarantined = await setUp([worker('b', NOW, ['fp32', 'bf16'])], ['b']).service.unavailability(NOW);
    assert.match(quarantined.bf16!, /^no worker can take shards: b is quarantined/);
  });
});
