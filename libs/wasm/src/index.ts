export * from './compiled-wasm';
