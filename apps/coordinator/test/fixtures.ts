import { ConsoleLogger, Logger } from '@nestjs/common';

// What the coordinator's unit tests share besides the fakes, which mirror src/ one per file:
// test/<path of the faked class>.mock.ts; their job spec is test/support/test-job-spec.ts.

/** Keeps the services' Nest log lines out of mocha's report while the calling suite runs. */
export function quietNestLogs(): void {
  before(() => Logger.overrideLogger(false));
  after(() => Logger.overrideLogger(new ConsoleLogger()));
}
