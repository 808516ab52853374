import * as path from 'node:path';
import { Command, Option } from 'commander';
import { openDataset } from '@resnet/data';
import { BACKEND_CHOICES, BackendChoice, initComputeBackend } from '@resnet/engine';
import { loadLayersModel } from '../layers-model-store';
import { ModelAccuracy, evaluateModel } from '../model-evaluation';
import { positiveInteger } from '../option-parsers';
import { textTable } from '../text-table';
import { modelSource, preprocessing, SHIPPED_MODEL } from '../trained-model';

interface EvaluateOptions {
  data: string;
  model?: string;
  every: number;
  backend: BackendChoice;
}

function percent(correct: number, { count }: ModelAccuracy): string {
  return `${((100 * correct) / count).toFixed(2)}% (${correct} of ${count})`;
}

export function evaluateCommand(): Command {
  return new Command('evaluate')
    .description("Measure a trained model's test accuracy on a dataset's test split, on this machine")
    .requiredOption(
      '--data <folder-or-archive>',
      'the dataset: a folder or .tar.gz with test/ (class folders) or CIFAR-10 binary files',
    )
    .option(
      '--model <url-or-folder>',
      `http://<coordinator>/jobs/<id>/model, or a folder holding model.json (default: the shipped ${SHIPPED_MODEL})`,
    )
    .option('--every <n>', 'evaluate every n-th test image only (a fixed slice)', positiveInteger, 1)
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend').choices(BACKEND_CHOICES).default('auto'),
    )
    .addHelpText(
      'after',
      '\nExample:\n  npx resnet-cluster evaluate --data ../shared/data/cifar10-images.tar.gz   # the shipped model',
    )
    .action(async (opts: EvaluateOptions) => {
      const source = modelSource(opts.model);
      await initComputeBackend(opts.backend);
      const model = await loadLayersModel(source);
      try {
        const prep = preprocessing(model, source);
        if (prep.evalCropFraction !== 1) {
          throw new Error(
            `${source} evaluated centre crops of larger images (ImageNet style), which evaluate does not prepare: ` +
              'use a model trained on images of its input size (CIFAR-10), or predict for single images',
          );
        }
        const test = await openDataset(path.resolve(opts.data), 'test', { size: prep.inputShape });
        if (test.classNames.join() !== prep.classNames.join()) {
          throw new Error(
            `${opts.data} has the classes ${test.classNames.join(', ')} but ${source} was trained on ` +
              `${prep.classNames.join(', ')}: evaluate it on the dataset it was trained on`,
          );
        }
        const accuracy = await evaluateModel(model, test, prep, opts.every);
        console.log(
          textTable(
            ['model', 'test images', 'top-1', 'top-5'],
            [
              [
                source,
                String(accuracy.count),
                percent(accuracy.top1Correct, accuracy),
                percent(accuracy.top5Correct, accuracy),
              ],
            ],
          ),
        );
      } finally {
        model.dispose();
      }
    });
}
