import * as tf from '@tensorflow/tfjs';

/** The weights file's name in every model.json this project writes. */
export const WEIGHTS_FILE = 'weights.bin';

/**
 * A LayersModel in the TF.js file format: model.json (topology, weights manifest, metadata) and
 * one binary weights file that the manifest names WEIGHTS_FILE, relative to model.json.
 */
export interface LayersModelFiles {
  readonly modelJson: tf.io.ModelJSON;
  readonly weights: Uint8Array;
}

export async function toLayersModelFiles(model: tf.LayersModel): Promise<LayersModelFiles> {
  let files: LayersModelFiles | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const {
        weightSpecs,
        weightData,
        modelTopology,
        format,
        generatedBy,
        convertedBy,
        userDefinedMetadata,
      } = artifacts;
      if (!weightSpecs || !weightData || !modelTopology)
        throw new Error('TF.js saved a model without topology or weights');
      files = {
        modelJson: {
          modelTopology,
          format,
          generatedBy,
          convertedBy,
          weightsManifest: [{ paths: [WEIGHTS_FILE], weights: weightSpecs }],
          ...(userDefinedMetadata ? { userDefinedMetadata } : {}),
        },
        weights: new Uint8Array(tf.io.CompositeArrayBuffer.join(weightData)),
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return files!;
}

/** Loads model files read from anywhere (a folder, a download) without a file:// or http handler. */
export async function fromLayersModelFiles(files: LayersModelFiles): Promise<tf.LayersModel> {
  const { weights } = files;
  const weightData = weights.buffer.slice(
    weights.byteOffset,
    weights.byteOffset + weights.byteLength,
  ) as ArrayBuffer;
  const artifacts = await tf.io.getModelArtifactsForJSON(files.modelJson, async (manifest) => [
    manifest.flatMap((group) => group.weights),
    weightData,
  ]);
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}
