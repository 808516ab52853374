import { parentPort, workerData } from 'node:worker_threads';
import { layoutsOf } from '@resnet/model';
import { architectureOf, foldGroupOf, partitionedModel } from '@resnet/job';
import { RedisConnections } from '@resnet/redis-connections';
import { RejectedShardResultError } from '../../errors/shard.errors';
import { AggregatorReply, AggregatorRequest, AggregatorThreadData } from './aggregator-thread.protocol';
import { PartitionAggregator } from './partition-aggregator';

// An aggregator thread (ThreadedPartitionAggregator): one partition's PartitionAggregator, with a
// Redis connection of its own, serving its loop's calls in the order they come.
const data = workerData as AggregatorThreadData;
const { partitions } = partitionedModel(data.spec, layoutsOf(architectureOf(data.spec)));
const connections = RedisConnections.fromUrl(data.redisUrl, data.redisPrefix);
const blobs = connections.blobs();
const aggregator = new PartitionAggregator(
  partitions[data.partition],
  partitions.length,
  data.spec.shardsPerStep,
  foldGroupOf(data.spec),
  {
    params: new Float32Array(data.memory.params),
    state: new Float32Array(data.memory.state),
    velocity: new Float32Array(data.memory.velocity),
  },
  blobs,
  connections.keys(),
);
const port = parentPort!;

port.on('message', ({ id, method, args }: AggregatorRequest) => {
  const call = aggregator[method] as (...args: unknown[]) => Promise<unknown>;
  call.apply(aggregator, [...args]).then(
    (result) => {
      if (method === 'close') blobs.close();
      port.postMessage({ id, result } satisfies AggregatorReply);
    },
    (err: Error) => {
      const blame = err instanceof RejectedShardResultError ? err.blame : undefined;
      port.postMessage({
        id,
        error: { name: err.name, message: err.message, stack: err.stack, blame },
      } satisfies AggregatorReply);
    },
  );
});
