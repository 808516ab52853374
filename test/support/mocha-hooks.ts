import { timeoutFor } from './test-policy';

/** Gives every suite, test and hook the timeout of its folder (FOLDER_TIMEOUTS), before anything runs. */
function applyFolderTimeouts(suite: Mocha.Suite, file: string | undefined): void {
  const timeout = timeoutFor(suite.file ?? file);
  suite.timeout(timeout);
  const hooks = [
    ...(suite as unknown as { _beforeAll: Mocha.Hook[] })._beforeAll,
    ...(suite as unknown as { _beforeEach: Mocha.Hook[] })._beforeEach,
    ...(suite as unknown as { _afterEach: Mocha.Hook[] })._afterEach,
    ...(suite as unknown as { _afterAll: Mocha.Hook[] })._afterAll,
  ];
  for (const runnable of [...suite.tests, ...hooks]) runnable.timeout(timeout);
  for (const child of suite.suites) applyFolderTimeouts(child, suite.file ?? file);
}

/** Mocha's root hook plugin (see .mocharc.json `require`). */
export const mochaHooks = {
  beforeAll(this: Mocha.Context): void {
    for (const suite of this.test!.parent!.suites) applyFolderTimeouts(suite, suite.file);
  },
};
