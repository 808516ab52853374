import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsPositive, Max, Min } from 'class-validator';

// Composite decorators for request DTOs: each states a field's rule once, for class-validator and
// for the OpenAPI document alike (plain tsc runs no Swagger plugin that would read the validators).

export interface NumberRule {
  readonly min?: number;
  /** Above 0, not equal to it (a learning rate). @defaultValue false */
  readonly positive?: boolean;
  readonly max?: number;
  /** The value used when the field is absent, for the OpenAPI document. */
  readonly default?: number;
  readonly description?: string;
  /** Absent fields are refused. @defaultValue false */
  readonly required?: boolean;
}

function numberRule(integer: boolean, rule: NumberRule): PropertyDecorator {
  const document = rule.required ? ApiProperty : ApiPropertyOptional;
  return applyDecorators(
    document({
      type: integer ? 'integer' : 'number',
      minimum: rule.positive ? 0 : rule.min,
      ...(rule.positive ? { exclusiveMinimum: true } : {}),
      maximum: rule.max,
      default: rule.default,
      description: rule.description,
    }),
    ...(rule.required ? [] : [IsOptional()]),
    integer ? IsInt() : IsNumber(),
    ...(rule.min === undefined ? [] : [Min(rule.min)]),
    ...(rule.positive ? [IsPositive()] : []),
    ...(rule.max === undefined ? [] : [Max(rule.max)]),
  );
}

/** A whole number within [min, max]. */
export function Int(rule: NumberRule = {}): PropertyDecorator {
  return numberRule(true, rule);
}

/** A finite number within [min, max]. */
export function Num(rule: NumberRule = {}): PropertyDecorator {
  return numberRule(false, rule);
}

/** An optional field holding one of `values`. */
export function OneOf<T extends string>(
  values: readonly T[],
  rule: { readonly default?: T; readonly description?: string } = {},
): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ enum: values, default: rule.default, description: rule.description }),
    IsOptional(),
    IsIn(values as unknown as unknown[]),
  );
}

/** A true or false. */
export function Bool(
  rule: { readonly default?: boolean; readonly description?: string; readonly required?: boolean } = {},
): PropertyDecorator {
  const document = rule.required ? ApiProperty : ApiPropertyOptional;
  return applyDecorators(
    document({ default: rule.default, description: rule.description }),
    ...(rule.required ? [] : [IsOptional()]),
    IsBoolean(),
  );
}
