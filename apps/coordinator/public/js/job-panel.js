import { api, ApiError } from './api.js';
import { formatDuration, formatNumber, formatPercent, h, statusText } from './dom.js';

const BREAKDOWN_WINDOW = 300;
const SUMMARY_WINDOW = 20;
/**
 * Step time as the coordinator measures it: the slowest shard's compute lies inside the wait for
 * all shards, and that wait inside the step.
 */
const PHASES = [
  (m) => m.slowestShardMs,
  (m) => Math.max(0, m.waitMs - m.slowestShardMs),
  (m) => Math.max(0, m.stepMs - m.waitMs),
];
const PHASE_NAMES = ['compute', 'waiting', 'aggregation + optimizer'];
const COLORS = {
  blue: '#2563eb',
  orange: '#ea580c',
  green: '#16a34a',
  purple: '#7c3aed',
  teal: '#0d9488',
  slate: '#94a3b8',
};

function lineDataset(label, color, extra = {}) {
  return {
    label,
    data: [],
    borderColor: color,
    backgroundColor: color,
    borderWidth: 1.5,
    pointRadius: 0,
    ...extra,
  };
}

function chartOptions({ yTitle, legend = false, stacked = false, percent = false, logarithmic = false }) {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    parsing: false,
    normalized: true,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    plugins: {
      legend: { display: legend, labels: { boxWidth: 12, boxHeight: 12 } },
      // Long jobs have tens of thousands of steps; draw a faithful few hundred points.
      decimation: { enabled: !stacked, algorithm: 'lttb', samples: 400 },
      tooltip: {
        callbacks: {
          label: (c) =>
            `${c.dataset.label}: ${percent ? `${c.parsed.y.toFixed(1)}%` : formatNumber(c.parsed.y, 4)}`,
        },
      },
    },
    scales: {
      x: { type: 'linear', title: { display: true, text: 'step' }, ticks: { precision: 0 } },
      y: {
        stacked,
        // A log axis keeps an early spike (a test loss of 127 in the first epoch) from flattening the rest.
        ...(logarithmic ? { type: 'logarithmic' } : { beginAtZero: true }),
        title: { display: Boolean(yTitle), text: yTitle },
        ...(percent ? { max: 100 } : {}),
      },
    },
  };
}

function makeCharts() {
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = '#4b5563';
  const make = (id, datasets, options) =>
    new Chart(document.getElementById(id), { type: 'line', data: { datasets }, options });
  return {
    loss: make(
      'loss-chart',
      [
        lineDataset('train', COLORS.blue),
        lineDataset('test', COLORS.orange, { pointRadius: 3, borderWidth: 2 }),
      ],
      chartOptions({ legend: true, logarithmic: true, yTitle: 'log scale' }),
    ),
    accuracy: make(
      'accuracy-chart',
      [
        lineDataset('train', COLORS.green),
        lineDataset('test', COLORS.orange, { pointRadius: 3, borderWidth: 2 }),
      ],
      chartOptions({ legend: true, percent: true, yTitle: '%' }),
    ),
    lr: make('lr-chart', [lineDataset('learning rate', COLORS.purple)], chartOptions({})),
    throughput: make(
      'throughput-chart',
      [lineDataset('images/s', COLORS.teal)],
      chartOptions({ yTitle: 'images/s' }),
    ),
    breakdown: make(
      'breakdown-chart',
      [
        lineDataset('worker compute (slowest shard)', COLORS.blue, {
          fill: 'origin',
          backgroundColor: '#2563eb55',
        }),
        lineDataset('waiting for the slowest shard', COLORS.orange, {
          fill: '-1',
          backgroundColor: '#ea580c55',
        }),
        lineDataset('aggregation + optimizer + publish', COLORS.slate, {
          fill: '-1',
          backgroundColor: '#94a3b877',
        }),
      ],
      chartOptions({ legend: true, stacked: true, yTitle: 'ms' }),
    ),
  };
}

/** The selected job: its numbers, live charts and controls. */
export class JobPanel {
  constructor() {
    this.panel = document.getElementById('job-panel');
    this.charts = makeCharts();
    this.jobId = null;
    this.job = null;
    this.steps = [];
    this.evals = [];
    this.error = document.getElementById('job-error');
    this.buttons = {
      pause: document.getElementById('pause-button'),
      resume: document.getElementById('resume-button'),
      cancel: document.getElementById('cancel-button'),
    };
    this.buttons.pause.addEventListener('click', () => this.act('pause'));
    this.buttons.resume.addEventListener('click', () => this.act('resume'));
    this.buttons.cancel.addEventListener('click', () => {
      if (confirm(`Cancel job "${this.job.name}"? A cancelled job cannot be resumed.`))
        void this.act('cancel');
    });
  }

  /** Shows another job (or none); its metrics arrive with the next events. */
  select(jobId) {
    if (this.jobId === jobId) return;
    this.jobId = jobId;
    this.job = null;
    this.steps = [];
    this.evals = [];
    this.error.hidden = true;
    this.panel.hidden = true; // until the job's row arrives
    this.drawCharts();
  }

  /** The job's row from the latest jobs event. */
  showJob(job) {
    this.job = job;
    if (!job) {
      this.panel.hidden = true;
      return;
    }
    this.panel.hidden = false;
    document.getElementById('job-title').textContent = job.name;
    const status = document.getElementById('job-status');
    status.textContent = statusText(job.status, job.queuePosition);
    status.dataset.status = job.status;
    document.getElementById('job-id').textContent = job.id;
    this.buttons.pause.disabled = !['queued', 'running'].includes(job.status);
    this.buttons.resume.disabled = !['paused', 'failed'].includes(job.status);
    this.buttons.cancel.disabled = !['queued', 'running', 'paused'].includes(job.status);
    if (job.error) this.showError(job.error);
    const workers = document.getElementById('job-workers');
    workers.textContent = job.workersUnavailable ?? '';
    workers.hidden = !job.workersUnavailable;
    this.drawStats();
  }

  addMetrics({ reset, steps, evals }) {
    if (reset) {
      this.steps = [];
      this.evals = [];
    }
    this.steps.push(...steps);
    this.evals.push(...evals);
    this.drawCharts();
    this.drawStats();
  }

  async act(action) {
    this.error.hidden = true;
    try {
      this.showJob({
        ...this.job,
        ...(await api('POST', `jobs/${encodeURIComponent(this.job.id)}/${action}`)),
      });
    } catch (err) {
      this.showError(
        err instanceof ApiError ? err.messages.join('; ') : `could not reach the coordinator: ${err.message}`,
      );
    }
  }

  showError(message) {
    this.error.textContent = message;
    this.error.hidden = false;
  }

  drawStats() {
    const job = this.job;
    if (!job) return;
    const last = this.steps.at(-1);
    const test = this.evals.at(-1);
    const stats = [
      ['Step', `${job.step} / ${job.totalSteps}`],
      ['Epoch', `${formatNumber(job.epoch, 2)} / ${formatNumber(job.epochs, job.epochs % 1 ? 2 : 0)}`],
      ['Train loss', formatNumber(last?.loss, 4)],
      ['Train accuracy', formatPercent(last?.accuracy)],
      ['Test accuracy', formatPercent(test?.accuracy, 2)],
      ['Images/s', formatNumber(last?.imagesPerSecond)],
      ['ETA', formatDuration(job.etaSeconds)],
      ['Batch × shards', `${job.batchSize} × ${job.shardsPerStep}`],
      ['Synchronisation', job.localSteps > 1 ? `local SGD, every ${job.localSteps} steps` : 'every step'],
      ['Precision', job.precision],
    ];
    document
      .getElementById('job-stats')
      .replaceChildren(...stats.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));
  }

  drawCharts() {
    const { loss, accuracy, lr, throughput, breakdown } = this.charts;
    const series = (list, pick) => list.map((m) => ({ x: m.step, y: pick(m) }));
    loss.data.datasets[0].data = series(this.steps, (m) => m.loss);
    loss.data.datasets[1].data = series(this.evals, (m) => m.loss);
    accuracy.data.datasets[0].data = series(this.steps, (m) => m.accuracy * 100);
    accuracy.data.datasets[1].data = series(this.evals, (m) => m.accuracy * 100);
    lr.data.datasets[0].data = series(this.steps, (m) => m.lr);
    throughput.data.datasets[0].data = series(this.steps, (m) => m.imagesPerSecond);
    const recent = this.steps.slice(-BREAKDOWN_WINDOW);
    PHASES.forEach((phase, i) => (breakdown.data.datasets[i].data = series(recent, phase)));
    for (const chart of Object.values(this.charts)) chart.update('none');
    document.getElementById('breakdown-summary').textContent = breakdownSummary(
      this.steps.slice(-SUMMARY_WINDOW),
    );
  }
}

function breakdownSummary(steps) {
  if (!steps.length) return '';
  const means = PHASES.map((phase) => steps.reduce((sum, m) => sum + phase(m), 0) / steps.length);
  const total = means.reduce((a, b) => a + b, 0) || 1;
  const parts = means.map(
    (ms, i) => `${PHASE_NAMES[i]} ${ms.toFixed(0)} ms (${Math.round((ms / total) * 100)}%)`,
  );
  return `— mean of the last ${steps.length} steps: ${parts.join(' · ')}`;
}
