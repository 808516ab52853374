// Renders a job's loss and accuracy against epochs to a PNG: node scripts/plot-training.mjs metrics.json out.png
// (ESM because vega and vega-lite ship as ES modules only; sharp turns the SVG into a PNG.)
import { readFileSync } from 'node:fs';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import sharp from 'sharp';

const [metricsFile, outFile] = process.argv.slice(2);
if (!metricsFile || !outFile) {
  console.error('usage: node scripts/plot-training.mjs <metrics.json> <out.png>');
  process.exit(2);
}
const { steps, evals, reference = [] } = JSON.parse(readFileSync(metricsFile, 'utf8'));
const every = Math.max(1, Math.floor(steps.length / 400)); // a few hundred points are plenty
const rows = [
  ...steps
    .filter((_, i) => i % every === 0)
    .map((s) => ({ epoch: s.epoch, value: s.loss, series: 'train loss', panel: 'loss' })),
  ...evals.map((e) => ({ epoch: e.epoch, value: e.loss, series: 'test loss', panel: 'loss' })),
  ...steps
    .filter((_, i) => i % every === 0)
    .map((s) => ({
      epoch: s.epoch,
      value: 100 * s.accuracy,
      series: 'train accuracy (batch)',
      panel: 'accuracy (%)',
    })),
  ...evals.map((e) => ({
    epoch: e.epoch,
    value: 100 * e.accuracy,
    series: 'test accuracy',
    panel: 'accuracy (%)',
  })),
  ...reference.map((r) => ({
    epoch: r.epoch,
    value: 100 * r.accuracy,
    series: 'PyTorch reference, test accuracy',
    panel: 'accuracy (%)',
  })),
];
const spec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  data: { values: rows },
  facet: { column: { field: 'panel', type: 'nominal', title: null, sort: ['loss', 'accuracy (%)'] } },
  resolve: { scale: { y: 'independent' } },
  spec: {
    width: 420,
    height: 280,
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
      y: { field: 'value', type: 'quantitative', title: null },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        legend: { orient: 'bottom', labelLimit: 400, columns: 3 },
      },
    },
  },
  config: { background: 'white', point: { size: 0 } },
};
const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
const svg = await view.toSVG(2);
await sharp(Buffer.from(svg)).png().toFile(outFile);
console.log(`wrote ${outFile}`);
