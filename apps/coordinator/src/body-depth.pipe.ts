import { ArgumentMetadata, BadRequestException, Injectable, PipeTransform } from '@nestjs/common';

/**
 * How deeply request bodies may nest objects and arrays. The deepest valid body (a job's
 * schedule.milestones) nests 3 levels; the margin keeps room for new fields.
 */
export const MAX_BODY_DEPTH = 32;

/**
 * Refuses request bodies nested deeper than `maxDepth`, before the ValidationPipe sees them:
 * class-transformer and class-validator recurse into every level, so a body nested a few
 * thousand levels deep overflows the call stack (a 500) instead of failing validation. The depth
 * is measured without recursion, for the same reason.
 */
@Injectable()
export class BodyDepthPipe implements PipeTransform {
  constructor(private readonly maxDepth = MAX_BODY_DEPTH) {}

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body' && nestingExceeds(value, this.maxDepth)) {
      throw new BadRequestException(
        `request body nests objects or arrays more than ${this.maxDepth} levels deep; send a flatter body`,
      );
    }
    return value;
  }
}

/** Whether `value` holds objects or arrays more than `maxDepth` levels deep (a scalar is level 0). */
export function nestingExceeds(value: unknown, maxDepth: number): boolean {
  const pending: Array<{ readonly value: unknown; readonly depth: number }> = [{ value, depth: 0 }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    const depth = next.depth + 1;
    if (depth > maxDepth) return true;
    for (const child of Object.values(next.value)) pending.push({ value: child, depth });
  }
  return false;
}
