// Asks Dawn for a high-performance adapter, as a GPU worker does, and prints its info, features and
// limits, then whether a device opens on it. Without an adapter it prints one line saying so and
// exits 1. Run with VK_LOADER_DEBUG=error,warn,driver to see the Vulkan loader's search.
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) {
  console.log('ADAPTER: none (Dawn found no Vulkan adapter; see the loader lines above)');
  process.exit(1);
}
const { vendor, architecture, device, description, isFallbackAdapter } = adapter.info;
console.log(
  `ADAPTER: ${[vendor, architecture, device, description].filter((p) => p).join(' | ')}` +
    (isFallbackAdapter ? ' (software fallback adapter, not a GPU)' : ''),
);
console.log(`features: ${[...adapter.features].sort().join(' ')}`);
const limits = Object.getOwnPropertyNames(Object.getPrototypeOf(adapter.limits)).filter(
  (name) => typeof adapter.limits[name] === 'number',
);
console.log(`limits: ${limits.map((name) => `${name}=${adapter.limits[name]}`).join(' ')}`);
const opened = await adapter.requestDevice({
  requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
});
console.log(`device: opened, features ${[...opened.features].sort().join(' ')}`);
opened.destroy();
