import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Page } from 'playwright-core';
import { CHROMIUM, requireDependency } from '../support/optional-dependency';
import { DashboardCluster } from '../support/dashboard-cluster';
import { TestBrowser } from '../support/test-browser';

const SMALL_JOB = {
  name: 'e2e small',
  trainSize: '256',
  testSize: '64',
  imageSize: '8',
  numClasses: '4',
  epochs: '2',
  batchSize: '32',
  shardsPerStep: '2',
  lr: '0.05',
};
const SMALL_JOB_STEPS = (256 / 32) * 2;

/** The page's Chart.js global, as much of it as these tests read. */
interface ChartGlobal {
  getChart(canvasId: string): { data: { datasets: Array<{ data: unknown[] }> } };
}

describe('dashboard in a browser', function () {
  let cluster: DashboardCluster;
  let browser: TestBrowser;
  let page: Page;

  before(async function () {
    requireDependency(this, CHROMIUM);
    cluster = await DashboardCluster.start(2);
    browser = await TestBrowser.launch({ width: 1440, height: 1300 });
    page = browser.page;
    page.on('dialog', (dialog) => void dialog.accept()); // the cancel button asks for confirmation
    await page.goto(cluster.url);
    await page.waitForSelector('#connection[data-state="live"]');
  });

  after(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  /** Fills the form; keys are field names without the dataset. prefix. */
  async function fillJobForm(fields: Record<string, string>): Promise<void> {
    for (const [name, value] of Object.entries(fields)) {
      const field = ['trainSize', 'testSize', 'imageSize', 'numClasses'].includes(name)
        ? `dataset.${name}`
        : name;
      await page.fill(`#job-form [name="${field}"]`, value);
    }
  }

  function jobRow(name: string) {
    return page.locator('#jobs-table tbody tr', { hasText: name });
  }

  /** Points the page's chart `chartId` has drawn in its dataset `index`, read from Chart.js itself. */
  function pointCount(chartId: string, index = 0): Promise<number> {
    return page.evaluate(
      ([id, i]) =>
        (window as unknown as { Chart: ChartGlobal }).Chart.getChart(id).data.datasets[i].data.length,
      [chartId, index] as const,
    );
  }

  async function waitForLossPoints(atLeast: number, timeout = 60_000): Promise<void> {
    await page.waitForFunction(
      (n) =>
        (window as unknown as { Chart: ChartGlobal }).Chart.getChart('loss-chart').data.datasets[0].data
          .length >= n,
      atLeast,
      { timeout },
    );
  }

  it('names the leading coordinator in the top bar', async () => {
    // The only coordinator leads: the page says so, and that it is the one serving it.
    await page.waitForFunction(() =>
      /^leader: \S+ \(this one\)$/.test(document.querySelector('#leader')?.textContent ?? ''),
    );
  });

  it('shows the server’s validation messages for a bad job', async () => {
    await fillJobForm({ ...SMALL_JOB, batchSize: '0', lr: '-1' });
    await page.click('#job-form button[type=submit]');
    const errors = page.locator('#form-errors');
    await errors.waitFor({ state: 'visible' });
    const text = await errors.innerText();
    assert.match(text, /batchSize must not be less than 1/);
    assert.match(text, /lr must be a positive number/);
    assert.equal(await jobRow(SMALL_JOB.name).count(), 0);
  });

  it('submits a small job through the form and follows it live to completed', async () => {
    await fillJobForm(SMALL_JOB);
    await page.click('#job-form button[type=submit]');
    await page.locator('#form-errors').waitFor({ state: 'hidden' });
    await page.waitForSelector('#job-panel:not([hidden])');
    assert.equal(await page.textContent('#job-title'), SMALL_JOB.name);
    // Points arrive while the job runs, pushed over /events, without reloading the page.
    await waitForLossPoints(1);
    await jobRow(SMALL_JOB.name).locator('.status', { hasText: 'completed' }).waitFor({ timeout: 60_000 });
    await waitForLossPoints(SMALL_JOB_STEPS, 5000);
    assert.equal(await pointCount('loss-chart'), SMALL_JOB_STEPS);
    assert.ok(
      (await pointCount('accuracy-chart', 1)) >= 1,
      'the test accuracy series has the final evaluation',
    );
    assert.equal(
      await jobRow(SMALL_JOB.name).locator('td').nth(5).innerText(),
      `${SMALL_JOB_STEPS} / ${SMALL_JOB_STEPS}`,
    );
    assert.equal(await page.locator('#workers-table tbody tr', { hasText: 'alive' }).count(), 2);
    assert.match(await page.innerText('#job-stats'), /Synchronisation\s+every step/i);
  });

  it('pauses, resumes and cancels a longer job with its buttons', async () => {
    await fillJobForm({ ...SMALL_JOB, name: 'e2e long', epochs: '100' });
    await page.click('#job-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#job-title')?.textContent === 'e2e long');
    await waitForLossPoints(2);
    const status = page.locator('#job-status');
    await page.click('#pause-button');
    await status.filter({ hasText: 'paused' }).waitFor();
    await page.click('#resume-button');
    await status.filter({ hasText: 'running' }).waitFor();
    await page.click('#cancel-button');
    await status.filter({ hasText: 'cancelled' }).waitFor();
    await jobRow('e2e long').locator('.status', { hasText: 'cancelled' }).waitFor();
    assert.ok(await page.isDisabled('#cancel-button'));
  });

  it('reports the finished job on /metrics', async () => {
    const jobs = (await (await fetch(`${cluster.url}/jobs`)).json()) as Array<{ id: string; name: string }>;
    const small = jobs.find((j) => j.name === SMALL_JOB.name)!;
    const { text } = await cluster.get('/metrics');
    const sample = (name: string) =>
      Number(new RegExp(`^${name}\\{job_id="${small.id}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.equal(sample('resnet_step_duration_seconds_count'), SMALL_JOB_STEPS);
    assert.ok(sample('resnet_gradient_bytes_total') > 0);
    assert.ok(sample('resnet_images_per_second') > 0);
    assert.match(text, /^resnet_workers\{state="alive"\} 2$/m);
  });

  it('saves a screenshot of the dashboard', async () => {
    await jobRow(SMALL_JOB.name).click();
    await waitForLossPoints(SMALL_JOB_STEPS, 5000);
    assert.equal(await pointCount('loss-chart'), SMALL_JOB_STEPS);
    await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
    // SAVE_SCREENSHOT=1 refreshes the README's picture; otherwise it goes to a temp folder.
    const file =
      process.env.SAVE_SCREENSHOT === '1'
        ? path.resolve(__dirname, '../../../docs/dashboard.png') // from <build dir>/test/dashboard
        : path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-shot-')), 'dashboard.png');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(fs.statSync(file).size > 10_000);
    console.log(`      screenshot: ${file}`);
  });
});
