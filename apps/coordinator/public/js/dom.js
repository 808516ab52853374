/** Builds an element; children are nodes or text (never parsed as HTML, so server strings are safe). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'style') Object.assign(el.style, value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  el.append(...children.flat().filter((c) => c !== undefined && c !== null));
  return el;
}

/** A job's status; a queued job's with its place in the queue (#1 starts next). */
export function statusText(status, queuePosition) {
  return queuePosition ? `${status} #${queuePosition}` : status;
}

export function statusBadge(status, queuePosition) {
  return h('span', { class: 'status', 'data-status': status }, statusText(status, queuePosition));
}

export function formatNumber(value, digits = 1) {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);
}

export function formatPercent(fraction, digits = 1) {
  return fraction === null || fraction === undefined ? '—' : `${(fraction * 100).toFixed(digits)}%`;
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatAgo(timestamp, now = Date.now()) {
  return `${formatDuration((now - timestamp) / 1000)} ago`;
}
