import * as Mocha from 'mocha';
import { pendingReasons } from './optional-dependency';
import { ALLOWED_PENDING, inCi, isAllowedPending, testFolderOf } from './test-policy';

/**
 * Mocha's spec reporter, plus the suite's pending policy and a summary. Mocha's own forbidPending
 * takes no allow-list, so this is it: in CI (`CI=true`) a pending test not on ALLOWED_PENDING
 * (test-policy.ts) counts as a failure, whatever made it pending (a missing dependency, `it.skip`,
 * a bare `this.skip()`). At the end it prints the pending tests with their reasons and the runtime
 * of each test folder.
 */
class PendingPolicyReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const pendingTests: Mocha.Test[] = [];
    const folderMs = new Map<string, number>();
    const fileStarted = new Map<Mocha.Suite, number>();
    runner.on(Mocha.Runner.constants.EVENT_TEST_PENDING, (test) => pendingTests.push(test));
    // A file's top-level suites: their time includes the hooks that start clusters.
    runner.on(Mocha.Runner.constants.EVENT_SUITE_BEGIN, (suite) => {
      if (suite.parent?.root) fileStarted.set(suite, Date.now());
    });
    runner.on(Mocha.Runner.constants.EVENT_SUITE_END, (suite) => {
      const started = fileStarted.get(suite);
      if (started === undefined) return;
      const folder = testFolderOf(suite.file);
      folderMs.set(folder, (folderMs.get(folder) ?? 0) + Date.now() - started);
    });
    // Registered before mocha's own end listener, which reads runner.failures for the exit code.
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const forbidden = inCi() ? pendingTests.filter((test) => !isAllowedPending(test.fullTitle())) : [];
      console.log('\n  Runtime per folder:');
      for (const [folder, ms] of [...folderMs].sort(([a], [b]) => a.localeCompare(b)))
        console.log(`    ${folder.padEnd(14)} ${(ms / 1000).toFixed(1).padStart(8)} s`);
      console.log(`\n  Pending tests (${pendingTests.length}; allowed in CI: ${ALLOWED_PENDING.length}):`);
      for (const test of pendingTests) {
        const title = test.fullTitle();
        const reason =
          isAllowedPending(title)?.reason ??
          [...pendingReasons].find(([skipped]) => title.startsWith(skipped))?.[1] ??
          'no reason given';
        console.log(
          `    ${isAllowedPending(title) ? 'allowed  ' : inCi() ? 'FORBIDDEN' : 'pending  '} ${title}: ${reason}`,
        );
      }
      if (forbidden.length) {
        console.log(
          `\n  ${forbidden.length} pending test(s) not on ALLOWED_PENDING (test/support/test-policy.ts): CI fails`,
        );
        runner.failures += forbidden.length;
      }
    });
  }
}

export = PendingPolicyReporter;
