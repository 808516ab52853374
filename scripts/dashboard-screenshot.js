// Refreshes docs/dashboard.png: the job `npm start` runs (synthetic data, 3 epochs, 2 workers) on a
// private cluster, shown selected once it completes. Needs the build (npm run build) and Chromium.
// usage: node scripts/dashboard-screenshot.js [out.png]
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS, run as is */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { LocalCluster } = require('../dist/libs/local-cluster/src');
const { upJobRequest } = require('../dist/apps/cli/src/commands/up.command');

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

async function main() {
  const out = path.resolve(process.argv[2] ?? path.join(__dirname, '../docs/dashboard.png'));
  const cluster = await LocalCluster.start({ workers: 2, workerNamePrefix: 'local', backend: 'auto' });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-shot-'));
  try {
    const submitted = await fetch(`${cluster.url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(upJobRequest({ epochs: '3', workers: '2' })),
    });
    const job = await submitted.json();
    for (;;) {
      const { status } = await (await fetch(`${cluster.url}/jobs/${job.id}`)).json();
      if (status === 'completed') break;
      if (status !== 'queued' && status !== 'running') throw new Error(`job ${job.id} ${status}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu'],
      viewport: { width: 1440, height: 1300 },
    });
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      await page.goto(`${cluster.url}/#job=${job.id}`);
      await page.waitForSelector('#connection[data-state="live"]');
      await page.waitForTimeout(3000); // the charts draw every step and evaluation
      await page.screenshot({ path: out, fullPage: true });
    } finally {
      await browser.close();
    }
    console.log(`screenshot of job ${job.id}: ${out}`);
  } finally {
    await cluster.stop();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
