#!/usr/bin/env node
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS, run as is */
// The CLI is TypeScript compiled to dist/; a fresh clone has no dist yet, so the first run builds it.
const { existsSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const main = path.join(root, 'dist/apps/cli/src/main.js');
if (!existsSync(main)) {
  console.error('resnet-cluster: no build yet; running `npm run build` first (about 10 s)');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}
require(main);
