import { DatasetRef } from '@resnet/data';
import { ModelName } from '@resnet/model';

/**
 * What a trained model's model.json carries in userDefinedMetadata besides the network, so that
 * anyone holding the file can prepare images and name predictions the way the job did.
 */
export interface ExportedModelMetadata {
  readonly jobId: string;
  readonly jobName: string;
  readonly model: ModelName;
  /** The weights version (optimizer steps applied). */
  readonly step: number;
  /** Class names by output index. */
  readonly classNames: readonly string[];
  /** Per-channel mean and std of pixel/255 that inputs are normalised with. */
  readonly normalization: { readonly mean: readonly number[]; readonly std: readonly number[] };
  /**
   * How evaluation cropped images: shorter side resized to inputSize / evalCropFraction, central
   * inputSize square kept (224/256 for ImageNet-style jobs, 1 otherwise).
   */
  readonly evalCropFraction: number;
  /**
   * What it was trained on: where sample test images come from (see GET /models/<name>/samples);
   * a synthetic model knows generated patterns, not real pictures.
   */
  readonly dataset: DatasetRef;
  /** The model outputs logits; softmax turns them into probabilities. */
  readonly output: 'logits';
}
