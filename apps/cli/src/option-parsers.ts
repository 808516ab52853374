import { InvalidArgumentError } from 'commander';

/** Commander's parser for a numeric option; the coordinator checks the range. */
export function number(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new InvalidArgumentError(`"${value}" is not a number.`);
  return n;
}

/** Commander's parser for an option that counts something: 1, 2, … */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${value}" is not a whole number >= 1.`);
  return n;
}
