import { cifarResNet, imageNetResNet, ResNetArchitecture, ShortcutKind } from './architecture';

export const CIFAR_MODELS = [
  'resnet20',
  'resnet32',
  'resnet44',
  'resnet56',
  'resnet110',
  'resnet1202',
] as const;
export const IMAGENET_MODELS = ['resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152'] as const;
export const MODEL_NAMES = [...CIFAR_MODELS, ...IMAGENET_MODELS] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface ModelOptions {
  readonly numClasses: number;
  readonly shortcut?: ShortcutKind;
}

/** Builds an architecture by its registry name, e.g. `resnet20` (CIFAR) or `resnet50` (ImageNet). */
export function architectureFor(name: string, options: ModelOptions): ResNetArchitecture {
  const depth = Number(name.replace(/^resnet/, ''));
  if ((CIFAR_MODELS as readonly string[]).includes(name)) {
    return cifarResNet(depth, options.numClasses, options.shortcut ?? 'projection');
  }
  if ((IMAGENET_MODELS as readonly string[]).includes(name)) {
    return imageNetResNet(depth, options.numClasses, options.shortcut ?? 'projection');
  }
  throw new Error(`unknown model "${name}": choose one of ${MODEL_NAMES.join(', ')}`);
}
