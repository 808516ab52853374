import { ConsoleLogger, Logger } from '@nestjs/common';

// What the coordinator's unit tests share besides the fakes, which mirror src/ one per file:
// test/<path of the faked class>.mock.ts; their job spec is test/support/test-job-spec.ts.

/** Keeps the services' Nest log lines out of mocha's report while the calling suite runs. */
export function quietNestLogs(): void {
  before(() => Logger.overrideLogger(false));
  after(() => Logger.overrideLogger(new ConsoleLogger()));
}

/** A Nest log line that is an object (the job lifecycle lines), with the level it went out at. */
export interface CapturedLogLine {
  readonly level: string;
  readonly job?: string;
  readonly jobName?: string;
  readonly event?: string;
  readonly msg?: string;
}

/** Keeps Nest's object log lines from now until the logger is overridden again. */
export function captureNestLogs(): CapturedLogLine[] {
  const lines: CapturedLogLine[] = [];
  const keep =
    (level: string) =>
    (message: unknown): void => {
      if (typeof message === 'object' && message !== null) lines.push({ level, ...(message as object) });
    };
  Logger.overrideLogger({
    log: keep('log'),
    error: keep('error'),
    warn: keep('warn'),
    debug: keep('debug'),
    verbose: keep('verbose'),
  });
  return lines;
}
