import { JobState } from '@resnet/protocol';

/** Queued jobs in the order they start: highest priority first, then first submitted. */
export function queueOrder<T extends { readonly state: JobState }>(jobs: readonly T[]): T[] {
  return jobs
    .filter((job) => job.state.status === 'queued')
    .sort(
      (a, b) =>
        b.state.priority - a.state.priority ||
        a.state.createdAt - b.state.createdAt ||
        a.state.id.localeCompare(b.state.id),
    );
}

/** Each queued job's place in the queue, 1 for the next to start. */
export function queuePositions(jobs: readonly { readonly state: JobState }[]): Map<string, number> {
  return new Map(queueOrder(jobs).map((job, i) => [job.state.id, i + 1]));
}

/**
 * Which jobs to start and which to preempt, given the queue in order, the running jobs that may
 * still be preempted, and the slots taken (those jobs and any already stopping for preemption):
 * free slots go to the head of the queue; beyond them, each queued job takes the slot of the
 * lowest-priority running job (the latest submitted among equals) if that one ranks below it.
 */
export function admissions(
  queue: readonly JobState[],
  running: readonly JobState[],
  slotsTaken: number,
  maxConcurrentJobs: number,
): { readonly start: string[]; readonly preempt: string[] } {
  const free = Math.max(0, maxConcurrentJobs - slotsTaken);
  const start = queue.slice(0, free).map((job) => job.id);
  const victims = [...running].sort((a, b) => a.priority - b.priority || b.createdAt - a.createdAt);
  const preempt: string[] = [];
  for (const waiting of queue.slice(free)) {
    const victim = victims[preempt.length];
    if (!victim || victim.priority >= waiting.priority) break;
    preempt.push(victim.id);
  }
  return { start, preempt };
}
