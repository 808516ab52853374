import { readFileSync } from 'node:fs';

/**
 * Instantiates a WebAssembly module of the libraries that `npm run build` compiles from its .wat
 * text (scripts/build-wasm.js) into dist/, next to the JavaScript that loads it. The modules import
 * nothing; `Exports` is what the module's .wat exports.
 */
export function instantiateCompiledWasm<Exports>(file: string): Exports {
  let binary: Buffer;
  try {
    binary = readFileSync(file);
  } catch (err) {
    throw new Error(
      `${file} is missing (${(err as Error).message}); run \`npm run build\`, which compiles it`,
      { cause: err },
    );
  }
  const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(binary)), {});
  return instance.exports as unknown as Exports;
}
