// Preloaded with `node --require`: at exit, appends every file this process loaded (JavaScript,
// JSON and native addons, which all pass through require.cache) to the list named by LOADED_FILES_OUT.
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS: preloaded by node --require */
const fs = require('node:fs');
const out = process.env.LOADED_FILES_OUT;
if (out) {
  process.on('exit', () => {
    fs.appendFileSync(out, Object.keys(require.cache).join('\n') + '\n');
  });
}
