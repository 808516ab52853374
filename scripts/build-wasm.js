#!/usr/bin/env node
/**
 * Compiles the WebAssembly text modules of the libraries (`libs/**\/*.wat`) into `dist/`, next to
 * the compiled JavaScript that loads them. Part of `npm run build`.
 */
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS, run by npm before anything is compiled */

const fs = require('node:fs');
const path = require('node:path');
const wabt = require('wabt');

const ROOT = path.resolve(__dirname, '..');

async function main() {
  const compiler = await wabt();
  const sources = fs
    .readdirSync(path.join(ROOT, 'libs'), { recursive: true })
    .filter((file) => file.endsWith('.wat'))
    .map((file) => path.join('libs', file));
  for (const source of sources) {
    const module = compiler.parseWat(source, fs.readFileSync(path.join(ROOT, source), 'utf8'));
    module.validate();
    const target = path.join(ROOT, 'dist', source.replace(/\.wat$/, '.wasm'));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, module.toBinary({}).buffer);
    module.destroy();
  }
}

main().catch((err) => {
  console.error(`build-wasm: ${err.message}`);
  process.exit(1);
});
