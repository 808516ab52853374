import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ExportedModelMetadata } from '@resnet/job';

/** The model shipped with the project, which predict and evaluate use when no --model is given. */
export const SHIPPED_MODEL = path.join('models', 'resnet20-cifar10');

/** The shipped model's folder, found from this module upwards (sources, dist/ or a build folder). */
export function shippedModel(): string | null {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, SHIPPED_MODEL, 'model.json'))) return path.join(dir, SHIPPED_MODEL);
    if (path.dirname(dir) === dir) return null;
  }
}

/** --model as given, else the shipped model; an error naming both ways when there is neither. */
export function modelSource(given: string | undefined): string {
  const source = given ?? shippedModel();
  if (!source) {
    throw new Error(
      `no --model given and no shipped model at ${SHIPPED_MODEL}: name a job's model (http://<coordinator>/jobs/<id>/model) or a folder`,
    );
  }
  return source;
}

/** How images must be prepared for the model: its metadata and its input size. */
export type Preprocessing = ExportedModelMetadata & { readonly inputShape: [number, number] };

/** Reads how to prepare images from model.json's metadata, so a foreign model fails with a reason. */
export function preprocessing(model: tf.LayersModel, source: string): Preprocessing {
  const metadata = (model.getUserDefinedMetadata() ?? {}) as Partial<ExportedModelMetadata>;
  const { classNames, normalization, evalCropFraction } = metadata;
  if (!classNames || !normalization || evalCropFraction === undefined) {
    throw new Error(
      `${source} has no class names, normalisation or crop in its userDefinedMetadata: use a model exported by ` +
        'a coordinator (GET /jobs/<id>/model) or saved from one with --save',
    );
  }
  const [, height, width] = model.inputs[0].shape;
  if (!height || !width)
    throw new Error(`${source} does not fix its input image size, so images cannot be prepared for it`);
  return { ...(metadata as ExportedModelMetadata), inputShape: [height, width] };
}
