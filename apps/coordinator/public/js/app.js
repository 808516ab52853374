import { renderJobs, setUpJobForm } from './jobs-view.js';
import { JobPanel } from './job-panel.js';
import { renderWorkers } from './workers-view.js';

/**
 * The dashboard: everything live comes from one Server-Sent Events stream (/events), which the
 * browser reconnects by itself; the selected job is in the URL (#job=ID) so that it survives a reload.
 */
const state = { jobs: [], preparing: [], workers: [], selectedId: null, events: null };
const panel = new JobPanel();
const connection = document.getElementById('connection');
const problem = document.getElementById('problem');

function selectedFromUrl() {
  return new URLSearchParams(location.hash.slice(1)).get('job');
}

function select(jobId) {
  if (state.events && jobId === state.selectedId) return; // already shown and streaming
  if (jobId !== selectedFromUrl())
    history.replaceState(null, '', jobId ? `#job=${encodeURIComponent(jobId)}` : '#');
  state.selectedId = jobId;
  panel.select(jobId);
  showJobs();
  connect(); // the stream carries the selected job's metrics
}

function showJobs() {
  renderJobs(state.jobs, state.preparing, state.selectedId, select);
  panel.showJob(state.jobs.find((j) => j.id === state.selectedId) ?? null);
}

function connect() {
  state.events?.close();
  const query = state.selectedId ? `?job=${encodeURIComponent(state.selectedId)}` : '';
  const events = new EventSource(`events${query}`);
  state.events = events;
  const on = (type, handle) => events.addEventListener(type, (e) => handle(JSON.parse(e.data)));
  on('jobs', (jobs) => {
    state.jobs = jobs;
    showJobs();
  });
  on('preparing', (preparing) => {
    state.preparing = preparing;
    showJobs();
  });
  on('workers', (workers) => {
    state.workers = workers;
    renderWorkers(workers);
  });
  on('metrics', (metrics) => {
    if (metrics.jobId === state.selectedId) panel.addMetrics(metrics);
  });
  on('problem', ({ message }) => {
    problem.textContent = message ?? '';
    problem.hidden = !message;
  });
  events.onopen = () => setConnection('live', 'live');
  events.onerror = () => setConnection('reconnecting', 'reconnecting…');
}

function setConnection(stateName, text) {
  connection.dataset.state = stateName;
  connection.textContent = text;
}

/** Which coordinator leads the training loops, and whether it is the one serving this page (GET /health). */
async function showLeader() {
  const leader = document.getElementById('leader');
  try {
    const res = await fetch('health');
    const { coordinator, leader: id } = (await res.json()).info?.leadership ?? {};
    leader.textContent = !id
      ? 'no leader yet'
      : id === coordinator
        ? `leader: ${id} (this one)`
        : `leader: ${id}`;
  } catch {
    leader.textContent = '';
  }
}

setUpJobForm((job) => select(job.id));
void showLeader();
setInterval(() => void showLeader(), 5000);
window.addEventListener('hashchange', () => select(selectedFromUrl()));
// Heartbeat ages move on between events.
setInterval(() => renderWorkers(state.workers), 1000);
select(selectedFromUrl());
