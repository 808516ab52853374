import { readFileSync } from 'node:fs';

/**
 * A WebAssembly module that `npm run build` compiled from a library's `.wat` text (see
 * scripts/build-wasm.js); `file` is the `.wasm` path next to the compiled JavaScript.
 */
export function compiledWasmModule(file: string): WebAssembly.Module {
  let binary: Buffer;
  try {
    binary = readFileSync(file);
  } catch (err) {
    throw new Error(
      `${file} is missing (${(err as Error).message}); run \`npm run build\`, which compiles it`,
      {
        cause: err,
      },
    );
  }
  return new WebAssembly.Module(new Uint8Array(binary));
}
