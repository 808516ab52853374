import { api, ApiError } from './api.js';
import { formatDuration, formatNumber, h, statusBadge } from './dom.js';

/** The jobs table, under the datasets being prepared for jobs about to start; clicking a job's row selects it. */
export function renderJobs(jobs, preparing, selectedId, onSelect) {
  const tbody = document.querySelector('#jobs-table tbody');
  tbody.replaceChildren(
    ...preparing.map(preparationRow),
    ...jobs.map((job) =>
      h(
        'tr',
        {
          'data-job-id': job.id,
          'aria-selected': job.id === selectedId ? 'true' : 'false',
          onclick: () => onSelect(job.id),
        },
        h('td', { class: 'name', title: job.id }, job.name),
        h('td', {}, job.model),
        h('td', {}, job.dataset),
        h('td', {}, statusBadge(job.status, job.queuePosition)),
        h(
          'td',
          { class: 'num' },
          `${formatNumber(job.epoch, 2)} / ${formatNumber(job.epochs, job.epochs % 1 ? 2 : 0)}`,
        ),
        h('td', { class: 'num' }, `${job.step} / ${job.totalSteps}`),
        h(
          'td',
          { title: `${(job.progress * 100).toFixed(1)}%` },
          h(
            'div',
            { class: 'progress' },
            h('div', { style: { width: `${(job.progress * 100).toFixed(1)}%` } }),
          ),
        ),
        h('td', { class: 'num' }, formatNumber(job.imagesPerSecond)),
        h('td', { class: 'num' }, formatDuration(job.etaSeconds)),
      ),
    ),
  );
  document.getElementById('jobs-empty').hidden = jobs.length + preparing.length > 0;
}

/** A job whose dataset is still being decoded: POST /jobs answers once it is done. */
function preparationRow(p) {
  const percent = `${Math.floor(p.fraction * 100)}%`;
  const status = p.phase === 'extracting' ? 'extracting data' : `preparing data ${percent}`;
  return h(
    'tr',
    { class: 'preparing' },
    h('td', { class: 'name' }, p.jobName),
    h('td', {}, '—'),
    h('td', {}, p.dataset),
    h('td', {}, h('span', { class: 'status', 'data-status': 'queued' }, status)),
    h('td', { class: 'num' }, '—'),
    h('td', { class: 'num', title: 'images decoded' }, p.total ? `${p.done} / ${p.total}` : '—'),
    h('td', { title: percent }, h('div', { class: 'progress' }, h('div', { style: { width: percent } }))),
    h('td', { class: 'num', title: 'images decoded per second' }, formatNumber(p.imagesPerSecond, 0)),
    h('td', { class: 'num' }, formatDuration(p.etaSeconds)),
  );
}

/** The submit form: sends only the fields filled in (the server applies defaults) and shows its validation messages. */
export function setUpJobForm(onSubmitted) {
  const form = document.getElementById('job-form');
  const errors = document.getElementById('form-errors');
  const kind = form.elements['dataset.kind'];
  const showDatasetFields = () => {
    for (const el of form.querySelectorAll('[data-dataset]')) el.hidden = el.dataset.dataset !== kind.value;
  };
  kind.addEventListener('change', showDatasetFields);
  showDatasetFields();
  void loadModelNames(form.elements.model);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    errors.hidden = true;
    try {
      const job = await api('POST', 'jobs', requestBody(form));
      onSubmitted(job);
    } catch (err) {
      const messages =
        err instanceof ApiError ? err.messages : [`could not reach the coordinator: ${err.message}`];
      errors.replaceChildren(...messages.map((m) => h('li', {}, m)));
      errors.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
}

function requestBody(form) {
  const body = { dataset: {} };
  for (const el of form.elements) {
    if (!el.name || el.closest('[hidden]') || el.value.trim() === '') continue;
    // Numbers the browser cannot parse go as text, so that the server names the field in its message.
    const value =
      el.type === 'number' && Number.isFinite(el.valueAsNumber) ? el.valueAsNumber : el.value.trim();
    const [head, tail] = el.name.split('.');
    if (tail) body[head][tail] = value;
    else body[head] = value;
  }
  return body;
}

/** The model list comes from the API's own schema, so the form offers exactly what POST /jobs accepts. */
async function loadModelNames(select) {
  try {
    const doc = await api('GET', 'docs-json');
    const names = doc.components.schemas.CreateJobDto.properties.model.enum;
    select.replaceChildren(...names.map((name) => h('option', { selected: name === 'resnet20' }, name)));
  } catch {
    // The default option stays; the server still validates whatever is sent.
  }
}
