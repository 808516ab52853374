import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { fromLayersModelFiles, toLayersModelFiles, WEIGHTS_FILE } from '@resnet/model';

const MODEL_JSON = 'model.json';

/**
 * Loads a TF.js LayersModel from an http(s) URL of its model.json (e.g. a coordinator's
 * /jobs/<id>/model) or from a folder holding model.json and its weight files. TF.js in Node has no
 * file:// handler without tfjs-node, so folders are read here.
 */
export async function loadLayersModel(source: string): Promise<tf.LayersModel> {
  if (/^https?:\/\//i.test(source)) return tf.loadLayersModel(source);
  const modelJsonPath = source.endsWith('.json') ? source : path.join(source, MODEL_JSON);
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(await fs.readFile(modelJsonPath, 'utf8')) as tf.io.ModelJSON;
  } catch (err) {
    throw new Error(
      `cannot read ${modelJsonPath} (${(err as Error).message}): pass a coordinator URL such as ` +
        `http://host:3000/jobs/<id>/model, or a folder written by --save`,
      { cause: err },
    );
  }
  const folder = path.dirname(modelJsonPath);
  // One weights buffer, in manifest order, is what TF.js builds from the files as well.
  const paths = modelJson.weightsManifest.flatMap((group) => group.paths);
  const weights = Buffer.concat(await Promise.all(paths.map((file) => fs.readFile(path.join(folder, file)))));
  return fromLayersModelFiles({ modelJson, weights });
}

/** Writes model.json and weights.bin into `folder` (created if needed); loadLayersModel(folder) reads them back. */
export async function saveLayersModel(model: tf.LayersModel, folder: string): Promise<void> {
  const files = await toLayersModelFiles(model);
  await fs.mkdir(folder, { recursive: true });
  await fs.writeFile(path.join(folder, WEIGHTS_FILE), files.weights);
  await fs.writeFile(path.join(folder, MODEL_JSON), JSON.stringify(files.modelJson));
}
