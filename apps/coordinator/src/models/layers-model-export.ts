import * as tf from '@tensorflow/tfjs';
import { evalCropFraction } from '@resnet/data';
import { LayersModelFiles, ModelWeights, toLayersModel, toLayersModelFiles } from '@resnet/model';
import { architectureOf, ExportedModelMetadata, TrainingJobSpec } from '@resnet/job';

/** A job's weights as TF.js LayersModel files, with what a user needs to run it in the metadata. */
export async function layersModelFiles(
  jobId: string,
  spec: TrainingJobSpec,
  step: number,
  weights: ModelWeights,
): Promise<LayersModelFiles> {
  // Whichever backend is registered with the highest priority may still be initialising (wasm is async).
  await tf.ready();
  const arch = architectureOf(spec);
  const model = toLayersModel(arch, weights, spec.imageShape);
  try {
    const metadata: ExportedModelMetadata = {
      jobId,
      jobName: spec.name,
      model: spec.model,
      step,
      classNames: spec.classNames,
      normalization: spec.normalization,
      evalCropFraction: evalCropFraction(spec.dataset),
      dataset: spec.dataset,
      output: 'logits',
    };
    model.setUserDefinedMetadata({ ...metadata });
    return await toLayersModelFiles(model);
  } finally {
    model.dispose();
  }
}
