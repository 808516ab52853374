// A trained model in the browser: TF.js (the global `tf`, from vendor/tfjs) runs the model.json
// named by the page on images the user picks and on a few test images from the coordinator.
import { formatPercent, h } from './dom.js';

const byId = (id) => document.getElementById(id);

const { modelUrl, samplesUrl } = document.body.dataset;
const TOP = 5;

function showProblem(message) {
  const banner = byId('problem');
  banner.textContent = message;
  banner.hidden = false;
}

function setStatus(state, text) {
  const status = byId('model-status');
  status.dataset.state = state;
  status.textContent = text;
}

/** What images must go through for this model: its metadata, input size and crop (see the CLI's predict). */
function preparationOf(model) {
  const metadata = model.getUserDefinedMetadata() ?? {};
  const { classNames, normalization, evalCropFraction } = metadata;
  if (!classNames || !normalization || evalCropFraction === undefined) {
    throw new Error('this model.json has no class names, normalisation or crop in its userDefinedMetadata');
  }
  const [, height, width] = model.inputs[0].shape;
  return { ...metadata, height, width };
}

/** The image as the job evaluated it: shorter side to size / cropFraction, central crop, normalised. */
function inputTensor(image, prep) {
  const { height, width, evalCropFraction, normalization } = prep;
  const scale =
    Math.max(height, width) / evalCropFraction / Math.min(image.naturalWidth, image.naturalHeight);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  const drawnWidth = image.naturalWidth * scale;
  const drawnHeight = image.naturalHeight * scale;
  context.drawImage(image, (width - drawnWidth) / 2, (height - drawnHeight) / 2, drawnWidth, drawnHeight);
  return tf.tidy(() =>
    tf.browser
      .fromPixels(canvas)
      .toFloat()
      .div(255)
      .sub(tf.tensor1d(normalization.mean))
      .div(tf.tensor1d(normalization.std))
      .expandDims(0),
  );
}

/** Class probabilities of one image. */
async function probabilities(model, prep, image) {
  const input = inputTensor(image, prep);
  const output = tf.tidy(() => tf.softmax(model.predict(input)).squeeze());
  try {
    return await output.data();
  } finally {
    input.dispose();
    output.dispose();
  }
}

function ranked(probs, classNames, k) {
  return [...probs]
    .map((p, index) => ({ p, index, name: classNames[index] ?? `class ${index}` }))
    .sort((a, b) => b.p - a.p)
    .slice(0, k);
}

const percent = (p) => formatPercent(p, 2);

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error('the browser cannot decode this file as an image'));
    image.src = src;
  });
}

function describe(model, prep) {
  const facts = [
    ['Network', prep.model ?? model.name],
    ['Trained by job', prep.jobName ? `${prep.jobName} (${prep.jobId})` : '–'],
    ['Steps', prep.step ?? '–'],
    ['Input', `${prep.height}×${prep.width} RGB`],
    ['Classes', prep.classNames.join(', ')],
    ['Parameters', model.countParams().toLocaleString()],
  ];
  byId('about').replaceChildren(
    ...facts.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, String(value))]),
  );
}

async function classifyPicked(model, prep, file) {
  const url = URL.createObjectURL(file);
  try {
    const image = await loadImage(url);
    byId('picked').src = url;
    const rows = ranked(await probabilities(model, prep, image), prep.classNames, TOP).map(
      ({ p, name }, rank) =>
        h('tr', {}, [
          h('td', {}, String(rank + 1)),
          h('td', { class: 'class-name' }, name),
          h('td', { class: 'num' }, percent(p)),
          h('td', {}, h('span', { class: 'bar', style: { width: `${Math.max(1, p * 120)}px` } })),
        ]),
    );
    const head = h(
      'tr',
      {},
      h('th', {}, '#'),
      h('th', {}, 'Class'),
      h('th', { class: 'num' }, 'Probability'),
      h('th'),
    );
    byId('top5').replaceChildren(h('thead', {}, head), h('tbody', {}, rows));
    byId('prediction').hidden = false;
  } catch (err) {
    showProblem(`${file.name}: ${err.message}`);
  }
}

async function showSamples(model, prep) {
  const res = await fetch(samplesUrl);
  const body = await res.json();
  if (!res.ok) {
    byId('samples-summary').textContent = `No test images: ${body.message ?? res.statusText}`;
    return;
  }
  let right = 0;
  const tiles = [];
  for (const sample of body.images) {
    const image = await loadImage(sample.png);
    const [best] = ranked(await probabilities(model, prep, image), prep.classNames, 1);
    const truth = body.classNames[sample.label];
    const correct = best.name === truth;
    if (correct) right++;
    tiles.push(
      h(
        'figure',
        { class: `sample ${correct ? 'right' : 'wrong'}`, 'data-predicted': best.name, 'data-label': truth },
        [
          h('img', { src: sample.png, alt: `test image ${sample.index}` }),
          h('figcaption', {}, [
            h('strong', {}, `${best.name} ${percent(best.p)}`),
            h('span', { class: 'muted' }, correct ? 'right' : `truth: ${truth}`),
          ]),
        ],
      ),
    );
  }
  byId('samples').replaceChildren(...tiles);
  byId('samples-summary').textContent =
    `${right} of ${body.images.length} right (test images spread over the test split)`;
}

async function main() {
  let model;
  try {
    model = await tf.loadLayersModel(modelUrl);
  } catch (err) {
    setStatus('error', 'no model');
    showProblem(`cannot load ${modelUrl}: ${err.message}`);
    return;
  }
  let prep;
  try {
    prep = preparationOf(model);
  } catch (err) {
    setStatus('error', 'unusable model');
    showProblem(err.message);
    return;
  }
  describe(model, prep);
  setStatus('live', `ready (TF.js ${tf.getBackend()})`);
  const input = byId('image-file');
  input.addEventListener('change', () => input.files[0] && classifyPicked(model, prep, input.files[0]));
  const drop = byId('drop');
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    const file = event.dataTransfer.files[0];
    if (file) classifyPicked(model, prep, file);
  });
  await showSamples(model, prep);
}

main().catch((err) => showProblem(err.message));
