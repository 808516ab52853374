import { Type } from 'class-transformer';
import { Int } from '../../validation';

export const DEFAULT_SAMPLE_COUNT = 8;

export class SamplesQueryDto {
  @Type(() => Number)
  @Int({ min: 1, max: 64, default: DEFAULT_SAMPLE_COUNT, description: 'How many test images' })
  count?: number;
}
