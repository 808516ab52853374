import { parentPort, workerData } from 'node:worker_threads';
import { layoutsOf } from '@resnet/model';
import { RedisKeys } from '@resnet/protocol';
import { architectureOf, partitionedModel } from '@resnet/job';
import { BlobConnection } from '@resnet/redis-blobs';
import { RejectedShardResultError } from '../../errors/shard.errors';
import { AggregatorReply, AggregatorRequest, AggregatorThreadData } from './aggregator-thread.protocol';
import { PartitionAggregator } from './partition-aggregator';

// An aggregator thread (ThreadedPartitionAggregator): one partition's PartitionAggregator, with a
// Redis connection of its own, serving its loop's calls in the order they come.
const data = workerData as AggregatorThreadData;
const { partitions } = partitionedModel(data.spec, layoutsOf(architectureOf(data.spec)));
const blobs = BlobConnection.open(data.redisUrl);
const aggregator = new PartitionAggregator(
  partitions[data.partition],
  partitions.length,
  data.spec.shardsPerStep,
  {
    params: new Float32Array(data.memory.params),
    state: new Float32Array(data.memory.state),
    velocity: new Float32Array(data.memory.velocity),
  },
  blobs,
  new RedisKeys(data.redisPrefix),
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
