import * as os from 'node:os';
import { Command } from 'commander';
import pino from 'pino';
import { DEFAULT_REDIS_PREFIX, DEFAULT_REDIS_URL, ServiceInfo, VersionAnnouncement } from '@resnet/protocol';
import { RedisConnections } from '@resnet/redis-connections';
import { UnitServer } from '@resnet/unit-transport';
import { AGGREGATOR_DEFAULTS, AggregatorOptions, checkedNumbers } from './aggregator-options';
import { ServiceRegistryRepository } from './repositories/service-registry.repository';
import { UnitLeaseRepository } from './repositories/unit-lease.repository';
import { UnitStoreRepository } from './repositories/unit-store.repository';
import { SummationService } from './summation.service';

const HEARTBEAT_MS = 1000;

async function main(options: AggregatorOptions): Promise<void> {
  const id = options.name ?? `${os.hostname()}-${process.pid}`;
  const log = pino({ base: { service: id }, level: process.env.LOG_LEVEL ?? 'info' });
  const { port, leaseMs } = checkedNumbers(options);
  const connections = RedisConnections.fromUrl(options.redis, options.prefix);
  await connections.checkKind();
  const redis = connections.client();
  redis.on('error', (err) => log.warn({ err: err.message }, 'Redis connection'));
  const keys = connections.keys();
  const registry = new ServiceRegistryRepository(redis, keys);
  const service = new SummationService(
    { id, leaseMs },
    registry,
    new UnitLeaseRepository(redis, keys),
    new UnitStoreRepository(redis, keys),
    (message) => log.info(message),
  );
  const server = new UnitServer((request, payload) => service.handle(request, payload));
  const boundPort = await server.listen(options.host, port);
  const info = (): ServiceInfo => ({
    id,
    address: `${options.advertise}:${boundPort}`,
    machine: options.machine,
    pid: process.pid,
    lastSeen: Date.now(),
  });
  // Subscribed connections take no other commands, hence a second connection.
  const announcements = connections.client();
  announcements.on('error', () => undefined); // outages are reported by the main connection
  announcements.on('message', (_channel, message) => {
    const { jobId, version } = JSON.parse(message) as VersionAnnouncement;
    service.committed(jobId, version);
  });
  await announcements.subscribe(keys.versionChannel());
  await registry.heartbeat(info());
  const beat = setInterval(
    () => registry.heartbeat(info()).catch((err: Error) => log.warn({ err: err.message }, 'heartbeat')),
    HEARTBEAT_MS,
  );
  let ticking = Promise.resolve();
  const tick = (): void => {
    ticking = ticking
      .then(() => service.tick())
      .catch((err: Error) => log.warn({ err: err.message }, 'leases'));
  };
  tick();
  const leases = setInterval(tick, leaseMs / 3);
  log.info(
    { address: info().address, machine: options.machine, redis: connections.redactedUrl },
    'summation service ready',
  );

  const shutdown = async (reason: string): Promise<void> => {
    log.info({ reason }, 'giving the units back, then leaving');
    clearInterval(beat);
    clearInterval(leases);
    await ticking;
    await service.close();
    await registry.leave(id);
    await server.close();
    announcements.disconnect();
    redis.disconnect();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

const program = new Command('aggregator')
  .description(
    'Summation service: holds units of the jobs trained with aggregation "services", sums the gradients workers push, applies SGD and serves the weights',
  )
  .option(
    '--redis <url>',
    'Redis URL shared with the coordinator',
    process.env.REDIS_URL || DEFAULT_REDIS_URL,
  )
  .option(
    '--prefix <prefix>',
    `Redis key prefix shared with the coordinator (default ${DEFAULT_REDIS_PREFIX})`,
    process.env.REDIS_PREFIX,
  )
  .option('--name <id>', 'service id (default host-pid)')
  .option('--host <address>', 'address to listen on', AGGREGATOR_DEFAULTS.host)
  .option('--port <n>', 'TCP port to listen on (0: any free port)', AGGREGATOR_DEFAULTS.port)
  .option('--advertise <host>', 'the host workers dial (default the hostname)', AGGREGATOR_DEFAULTS.advertise)
  .option(
    '--machine <label>',
    'machine label: workers and services with the same one are colocated (default the hostname)',
    AGGREGATOR_DEFAULTS.machine,
  )
  .option(
    '--lease-ms <ms>',
    "unit lease: a dead service's units move on after it",
    AGGREGATOR_DEFAULTS.leaseMs,
  )
  .action((opts: AggregatorOptions) =>
    main(opts).catch((err: Error) => {
      console.error(`aggregator failed to start: ${err.message}`);
      process.exit(1);
    }),
  );
program.parse();
