import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { Command, Option } from 'commander';
import { normalisedCentreCrop } from '@resnet/data';
import { BACKEND_CHOICES, BackendChoice, initComputeBackend } from '@resnet/engine';
import { loadLayersModel, saveLayersModel } from '../layers-model-store';
import { positiveInteger } from '../option-parsers';
import { textTable } from '../text-table';
import { modelSource, Preprocessing, preprocessing, SHIPPED_MODEL } from '../trained-model';

interface PredictOptions {
  model?: string;
  save?: string;
  top: number;
  backend: BackendChoice;
}

async function classify(model: tf.LayersModel, file: string, prep: Preprocessing): Promise<Float32Array> {
  const [height, width] = prep.inputShape;
  const input = await normalisedCentreCrop(file, prep.inputShape, prep.evalCropFraction, prep.normalization);
  const probabilities = tf.tidy(() =>
    tf.softmax(model.predict(tf.tensor4d(input, [1, height, width, 3])) as tf.Tensor2D).squeeze(),
  );
  try {
    return (await probabilities.data()) as Float32Array;
  } finally {
    probabilities.dispose();
  }
}

function topClasses(probabilities: Float32Array, classNames: readonly string[], k: number): string[][] {
  return [...probabilities]
    .map((p, index) => ({ p, index }))
    .sort((a, b) => b.p - a.p)
    .slice(0, k)
    .map(({ p, index }, rank) => [
      `${rank + 1}.`,
      classNames[index] ?? `class ${index}`,
      `${(p * 100).toFixed(2)}%`,
    ]);
}

export function predictCommand(): Command {
  return new Command('predict')
    .description(
      'Classify images with a trained model, from a coordinator or from a folder saved with --save',
    )
    .argument('[images...]', 'image files (JPEG, PNG, WebP, …), cropped and normalised as the job evaluated')
    .option(
      '--model <url-or-folder>',
      `http://<coordinator>/jobs/<id>/model, or a folder holding model.json (default: the shipped ${SHIPPED_MODEL})`,
    )
    .option(
      '--save <folder>',
      'also write the model (model.json and weights.bin) into this folder for offline use',
    )
    .option('--top <k>', 'classes to list per image', positiveInteger, 5)
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend').choices(BACKEND_CHOICES).default('auto'),
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  npx resnet-cluster predict --model http://127.0.0.1:3000/jobs/<job id>/model cat.jpg\n' +
        '  npx resnet-cluster predict --model http://127.0.0.1:3000/jobs/<job id>/model --save ./my-model\n' +
        '  npx resnet-cluster predict --model ./my-model cat.jpg dog.png\n' +
        '(<job id> as `npx resnet-cluster status` lists it; cat.jpg and dog.png: pictures of your own)',
    )
    .action(async (images: string[], opts: PredictOptions) => {
      if (images.length === 0 && !opts.save) {
        throw new Error('give at least one image to classify, or --save <folder> to only download the model');
      }
      const missing = images.filter((file) => !fs.existsSync(file));
      if (missing.length > 0) throw new Error(`no such image: ${missing.join(', ')}`);
      const source = modelSource(opts.model);
      await initComputeBackend(opts.backend);
      const model = await loadLayersModel(source);
      try {
        if (opts.save) {
          await saveLayersModel(model, opts.save);
          console.log(`saved the model to ${opts.save}`);
        }
        if (images.length === 0) return;
        const prep = preprocessing(model, source);
        if (prep.dataset?.kind === 'synthetic') {
          console.warn(
            `warning: ${source} was trained on generated data (stripes and colours standing for ` +
              `${prep.classNames.length} made-up classes): its labels say nothing about real pictures. ` +
              'Train on a real dataset (--data cifar10-images.tar.gz) for a model that does.',
          );
        }
        for (const file of images) {
          const rows = topClasses(await classify(model, file, prep), prep.classNames, opts.top);
          console.log(`${file}\n${textTable(['#', 'class', 'probability'], rows, new Set([2]))}\n`);
        }
      } finally {
        model.dispose();
      }
    });
}
