import { ShardTask, UnitRefusal, UnitRoute, xxh3Hex } from '@resnet/protocol';
import { UnitClient, UnitTransportError } from '@resnet/unit-transport';

/** A shard's totals, which travel with each of its gradient units. */
export interface ShardTotals {
  readonly workerId: string;
  readonly lossSum: number;
  readonly count: number;
  readonly correct: number;
}

/**
 * A worker's side of a job on summation services: it pulls the weights units of a version from
 * their owners, each checked against the hash the commit record lists (a service that lost its
 * lease, or serves another version, is refused), and pushes a shard's gradient units to their
 * owners.
 */
export class ServiceUnits {
  constructor(private readonly client: UnitClient) {}

  /** The unit's weights message of `version`; throws when the owner refuses or the hash differs. */
  async pull(jobId: string, version: number, attempt: number, route: UnitRoute): Promise<Buffer> {
    const { header, payload } = await this.client.request(route.address, {
      op: 'pull',
      jobId,
      unit: route.unit,
      version,
      attempt,
    });
    if (!header.ok)
      throw new UnitTransportError(`service ${route.address} refused unit ${route.unit}: ${header.reason}`);
    const hash = xxh3Hex(payload);
    if (hash !== route.hash)
      throw new UnitTransportError(
        `unit ${route.unit} of version ${version} from ${route.address} hashes to ${hash}, the commit record says ${route.hash}: refused`,
      );
    return payload;
  }

  /** Sends every unit of a shard to its owner; resolves with the first refusal, or null when all were taken. */
  async push(
    task: Extract<ShardTask, { kind: 'train' }>,
    routes: readonly UnitRoute[],
    messages: readonly Buffer[],
    totals: ShardTotals,
  ): Promise<UnitRefusal | null> {
    const answers = await Promise.all(
      routes.map((route, i) =>
        this.client.request(
          route.address,
          {
            op: 'push',
            jobId: task.jobId,
            step: task.step,
            shard: task.shard,
            unit: route.unit,
            attempt: task.attempt ?? 0,
            epoch: route.epoch,
            ...totals,
          },
          messages[i],
        ),
      ),
    );
    const refusal = answers.find((a) => !a.header.ok)?.header;
    return refusal && !refusal.ok ? { reason: refusal.reason, workersFault: refusal.workersFault } : null;
  }
}

/** Where a shard of a job on summation services pulls and pushes its units, and under which attempt. */
export interface ServiceRoutes {
  readonly units: readonly UnitRoute[];
  readonly attempt: number;
}

/** The task's routes, for a training shard of a job on summation services. */
export function serviceRoutesOf(task: ShardTask): ServiceRoutes | undefined {
  return task.kind === 'train' && task.units ? { units: task.units, attempt: task.attempt ?? 0 } : undefined;
}
