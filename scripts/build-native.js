#!/usr/bin/env node
/**
 * Builds the oneDNN addon behind the `onednn` TensorFlow.js backend (libs/engine/native) with
 * node-gyp. Runs as npm's postinstall and as `npm run build:native`.
 *
 * Outside CI it never fails the install: when something the build needs is missing it prints one
 * line saying what and how to get it, and exits 0; workers then fall back to the wasm backend. In CI
 * (CI=true) it exits 1 instead, since the onednn tests must run there.
 */
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS: npm runs this before anything is compiled */

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const NATIVE_DIR = path.join(ROOT, 'libs', 'engine', 'native');
const ADDON = path.join(NATIVE_DIR, 'build', 'Release', 'resnet_onednn.node');
const FALLBACK = 'workers will use the wasm backend';

const INCLUDE_DIRS = ['/usr/include', '/usr/local/include'];
const LIB_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/usr/local/lib',
];

function skip(reason) {
  if (process.env.CI === 'true') {
    console.error(`onednn addon not built: ${reason}; CI=true, where the onednn tests must run.`);
    process.exit(1);
  }
  console.log(`onednn addon not built: ${reason}; ${FALLBACK}.`);
  process.exit(0);
}

function found(dirs, file) {
  return dirs.some((dir) => fs.existsSync(path.join(dir, file)));
}

function commandWorks(command, args) {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return !result.error && result.status === 0;
}

/** npm's own node-gyp when the project has none: npm puts it next to itself. */
function findNodeGyp() {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js', { paths: [ROOT] });
  } catch {
    const candidates = [
      process.env.npm_config_node_gyp,
      path.join(
        path.dirname(process.execPath),
        '..',
        'lib',
        'node_modules',
        'npm',
        'node_modules',
        'node-gyp',
        'bin',
        'node-gyp.js',
      ),
    ];
    return candidates.find((file) => file && fs.existsSync(file)) ?? null;
  }
}

/** Node's own headers when installed with it (distro packages, official tarballs): no download needed. */
function localNodeDir() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

function main() {
  if (process.platform !== 'linux') skip(`the build is set up for Linux only (this is ${process.platform})`);
  if (!found(INCLUDE_DIRS, 'oneapi/dnnl/dnnl.hpp') || !found(LIB_DIRS, 'libdnnl.so')) {
    skip(
      'oneDNN headers or library not found (install them with `apt-get install libdnnl-dev`, then run `npm run build:native`)',
    );
  }
  if (!commandWorks('c++', ['--version']))
    skip('no C++ compiler (install one with `apt-get install g++ make`)');
  if (!commandWorks('make', ['--version'])) skip('make not found (install it with `apt-get install make`)');
  if (!commandWorks('python3', ['--version']))
    skip('node-gyp needs python3 (install it with `apt-get install python3`)');
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) skip('node-gyp not found (install it with `npm install -g node-gyp`)');

  const nodeDir = localNodeDir();
  const args = [
    nodeGyp,
    'rebuild',
    '--loglevel=warn',
    '--directory',
    NATIVE_DIR,
    ...(nodeDir ? [`--nodedir=${nodeDir}`] : []),
  ];
  const build = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (build.error || build.status !== 0) {
    skip('node-gyp failed (see its output above; fix that and run `npm run build:native`)');
  }
  // A link that succeeds can still fail to load (e.g. libdnnl.so.2 missing at run time).
  try {
    const addon = { exports: {} };
    process.dlopen(addon, ADDON);
    const info = addon.exports.info();
    console.log(`onednn addon built: ${path.relative(ROOT, ADDON)} (oneDNN ${info.version}, ${info.isa})`);
  } catch (err) {
    skip(
      `the built addon does not load (${err.message}); reinstall libdnnl-dev and run \`npm run build:native\``,
    );
  }
}

try {
  main();
} catch (err) {
  skip(`unexpected error: ${err.message}`);
}
