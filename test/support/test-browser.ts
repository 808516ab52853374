import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { CHROMIUM } from './optional-dependency';

/** Flags for a closed network: without them Chromium keeps trying to reach Google's services. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Headless Chromium for the page tests, with a fresh profile (--user-data-dir) each run, so that
 * nothing cached from an earlier run is seen. Check CHROMIUM with requireDependency first.
 */
export class TestBrowser {
  private constructor(
    private readonly context: BrowserContext,
    private readonly profileDir: string,
    readonly page: Page,
  ) {}

  static async launch(viewport: { width: number; height: number }): Promise<TestBrowser> {
    const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'test-chromium-'));
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM.path,
      args: CHROMIUM_ARGS,
      viewport,
    });
    return new TestBrowser(context, profileDir, context.pages()[0] ?? (await context.newPage()));
  }

  /** A scratch folder that close() removes: for files the page is given. */
  get scratchDir(): string {
    return this.profileDir;
  }

  async close(): Promise<void> {
    await this.context.close();
    fs.rmSync(this.profileDir, { recursive: true, force: true });
  }
}
