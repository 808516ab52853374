import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Precision, PRECISIONS, SHARD_QUEUE, shardQueueFor, StepMetrics } from '@resnet/protocol';
import { RedisClient } from '@resnet/redis-connections';
import { readWhileRedisAnswers } from '../repositories/redis-availability';
import { REDIS } from '../repositories/redis.providers';
import { WorkersService } from '../workers/workers.service';

/** Shard states worth a series; BullMQ counts each in one round trip. */
const SHARD_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;

/**
 * The coordinator's Prometheus metrics. Training metrics are pushed by the training service as each
 * step commits; queue and worker gauges are read from Redis when Prometheus scrapes. The registry
 * is per instance (not prom-client's global one) so that several coordinators in one process, as
 * in the tests, keep apart.
 */
@Injectable()
export class MetricsService {
  private readonly logger = new Logger(MetricsService.name);
  private readonly registry = new Registry();

  private readonly stepSeconds = new Histogram({
    name: 'resnet_step_duration_seconds',
    help: 'Wall time of one synchronous SGD step, from enqueueing its shards to the new weights being ready',
    labelNames: ['job_id'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  private readonly phaseSeconds = new Counter({
    name: 'resnet_step_phase_seconds_total',
    help: 'Step time by phase: worker_compute (slowest shard), queue_and_transfer (waiting beyond it), optimizer (aggregation, update, encoding)',
    labelNames: ['job_id', 'phase'],
    registers: [this.registry],
  });
  private readonly imagesPerSecond = this.jobGauge(
    'resnet_images_per_second',
    'Training throughput of the last step',
  );
  private readonly loss = this.jobGauge('resnet_training_loss', 'Mean training loss of the last step');
  private readonly accuracy = this.jobGauge(
    'resnet_training_accuracy',
    'Training accuracy of the last step (0 to 1)',
  );
  private readonly learningRate = this.jobGauge('resnet_learning_rate', 'Learning rate of the last step');
  private readonly step = this.jobGauge('resnet_training_step', 'Steps committed so far');
  private readonly gradientBytes = new Counter({
    name: 'resnet_gradient_bytes_total',
    help: 'Bytes of gradient messages that workers sent through Redis',
    labelNames: ['job_id'],
    registers: [this.registry],
  });

  constructor(
    @InjectQueue(SHARD_QUEUE) fp32Queue: Queue,
    @InjectQueue(shardQueueFor('bf16')) bf16Queue: Queue,
    @Inject(REDIS) redis: RedisClient,
    workers: WorkersService,
  ) {
    collectDefaultMetrics({ register: this.registry });
    // Without a listener BullMQ prints every reconnect failure; an outage is already reported by
    // /health, the dashboard and the training loop, so this queue only notes it at debug level.
    const queues: Record<Precision, Queue> = { fp32: fp32Queue, bf16: bf16Queue };
    for (const queue of Object.values(queues)) {
      queue.on('error', (err) => this.logger.debug(`${queue.name} queue connection: ${err.message}`));
    }
    // Gauges read at scrape time; while Redis is down they report nothing rather than stale values.
    new Gauge({
      name: 'resnet_shard_queue_jobs',
      help: "Shards on the BullMQ queues by state and by the precision of their jobs (each precision's own queue)",
      labelNames: ['state', 'precision'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const precision of PRECISIONS) {
          const counts = await readWhileRedisAnswers(redis, () =>
            queues[precision].getJobCounts(...SHARD_STATES),
          ).catch(() => null);
          for (const state of SHARD_STATES) if (counts) this.set({ state, precision }, counts[state] ?? 0);
        }
      },
    });
    new Gauge({
      name: 'resnet_workers',
      help: 'Workers that sent a heartbeat recently (alive) or stopped sending one (gone)',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const list = await readWhileRedisAnswers(redis, () => workers.list()).catch(() => null);
        if (!list) return;
        const alive = list.filter((w) => w.alive).length;
        this.set({ state: 'alive' }, alive);
        this.set({ state: 'gone' }, list.length - alive);
      },
    });
  }

  /** A gauge of the last step's value, one series per job. */
  private jobGauge(name: string, help: string): Gauge<'job_id'> {
    return new Gauge({ name, help, labelNames: ['job_id'], registers: [this.registry] });
  }

  /** Called by the training service once a step is committed. */
  observeStep(jobId: string, metrics: StepMetrics, gradientBytes: number): void {
    const labels = { job_id: jobId };
    this.stepSeconds.observe(labels, metrics.stepMs / 1000);
    this.phaseSeconds.inc({ ...labels, phase: 'worker_compute' }, metrics.slowestShardMs / 1000);
    this.phaseSeconds.inc(
      { ...labels, phase: 'queue_and_transfer' },
      Math.max(0, metrics.waitMs - metrics.slowestShardMs) / 1000,
    );
    this.phaseSeconds.inc(
      { ...labels, phase: 'optimizer' },
      Math.max(0, metrics.stepMs - metrics.waitMs) / 1000,
    );
    this.imagesPerSecond.set(labels, metrics.imagesPerSecond);
    this.loss.set(labels, metrics.loss);
    this.accuracy.set(labels, metrics.accuracy);
    this.learningRate.set(labels, metrics.lr);
    this.step.set(labels, metrics.step);
    this.gradientBytes.inc(labels, gradientBytes);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
