import { formatAgo, formatNumber, h, statusBadge } from './dom.js';

export function renderWorkers(workers) {
  const tbody = document.querySelector('#workers-table tbody');
  const now = Date.now();
  tbody.replaceChildren(
    ...workers.map((w) =>
      h(
        'tr',
        { 'data-worker-id': w.id },
        h('td', { class: 'mono' }, w.id),
        h('td', {}, w.host),
        h('td', {}, w.backend),
        h('td', { title: adapterTitle(w.adapter) }, w.device),
        h('td', {}, w.precisions.join(', ')),
        h('td', { class: 'num' }, formatNumber(w.imagesPerSecond)),
        h('td', { class: 'mono' }, w.currentShard ?? 'idle'),
        h('td', { title: new Date(w.lastSeen).toLocaleString() }, formatAgo(w.lastSeen, now)),
        h('td', {}, statusBadge(w.alive ? 'alive' : 'left')),
      ),
    ),
  );
  document.getElementById('workers-empty').hidden = workers.length > 0;
}

/** A webgpu worker's adapter, in full, for the device cell's tooltip. */
function adapterTitle(adapter) {
  if (!adapter) return '';
  const kind = adapter.isFallbackAdapter ? 'software WebGPU adapter (CPU emulation)' : 'WebGPU adapter';
  return `${kind}: vendor ${adapter.vendor}, architecture ${adapter.architecture}, device ${adapter.device}`;
}
