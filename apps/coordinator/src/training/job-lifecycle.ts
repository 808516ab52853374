import { Logger } from '@nestjs/common';

export type JobLifecycleEvent =
  'submitted' | 'started' | 'paused' | 'resumed' | 'cancelled' | 'completed' | 'failed';

/**
 * One line per change of a job's life, with its id and name as fields and in the message, so that
 * both a terminal and a log search show what happened to which job. Failures log at error, the
 * rest at info.
 */
export function logJobEvent(
  logger: Logger,
  event: JobLifecycleEvent,
  job: { readonly id: string; readonly name: string },
  detail?: string,
): void {
  const line = {
    job: job.id,
    jobName: job.name,
    event,
    msg: `job ${job.id} (${job.name}) ${event}${detail ? `: ${detail}` : ''}`,
  };
  if (event === 'failed') logger.error(line);
  else logger.log(line);
}
