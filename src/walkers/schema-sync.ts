/**
 * Whether a zod schema provably runs no walker code while parsing: no refinement, transform,
 * preprocess, lazy or getter-defined field, only zod's built-in types and checks. Only walker
 * code can make a parse async, so such a schema can take zod's synchronous `safeParse` (with its
 * compiled fast path, about twice as fast as an async-mode parse) with no risk of the
 * `$ZodAsyncError` double run (see parse-input.ts). Anything not recognised counts as walker
 * code: the answer errs towards the async-mode parse, which is correct for every schema.
 */
import { z } from 'zod';

type Schema = z.core.$ZodType;

/** Types with no children and no callbacks. */
const leaves = new Set(['string', 'number', 'int', 'boolean', 'bigint', 'symbol', 'undefined', 'null', 'void', 'never', 'any', 'unknown', 'date', 'nan', 'enum', 'literal', 'file', 'template_literal']);
/** Wrappers around `innerType`. `default`/`catch` may call a walker function, but zod calls it synchronously and never awaits it. */
const wrappers = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'nonoptional', 'success', 'catch']);
/** Built-in checks that run zod's own code only (`custom` is refine/superRefine/check, so it is left out). */
const builtinChecks = new Set(['less_than', 'greater_than', 'multiple_of', 'number_format', 'bigint_format', 'max_size', 'min_size', 'size_equals', 'max_length', 'min_length', 'length_equals', 'string_format', 'mime_type', 'overwrite', 'describe', 'meta']);

const cache = new WeakMap<Schema, boolean>();

export function runsOnlyZodCode(schema: Schema): boolean {
  let known = cache.get(schema);
  if (known === undefined) cache.set(schema, (known = walk(schema, new Set())));
  return known;
}

function walk(schema: unknown, seen: Set<unknown>): boolean {
  if (seen.has(schema)) return true;
  seen.add(schema);
  const def = (schema as Partial<Schema> | null)?._zod?.def as (z.core.$ZodTypeDef & Record<string, unknown>) | undefined;
  if (def === undefined) return false;
  for (const check of def.checks ?? []) {
    if (!builtinChecks.has(String(check._zod.def.check))) return false;
  }
  const child = (key: string) => walk(def[key], seen);
  const type = def.type;
  if (leaves.has(type)) return true;
  if (wrappers.has(type)) return child('innerType');
  switch (type) {
    case 'object': {
      // A shape behind an accessor (zod resolves some lazily) or a getter field would run code to read.
      const shape = z.core.util.rawShape(def);
      if (shape === undefined) return false;
      for (const key of Reflect.ownKeys(shape)) {
        const field = Object.getOwnPropertyDescriptor(shape, key);
        if (field === undefined || field.get !== undefined || !walk(field.value, seen)) return false;
      }
      return def['catchall'] === undefined || child('catchall');
    }
    case 'array':
      return child('element');
    case 'set':
      return child('valueType');
    case 'record':
    case 'map':
      return child('keyType') && child('valueType');
    case 'tuple':
      return (def['items'] as unknown[]).every((item) => walk(item, seen)) && (def['rest'] == null || child('rest'));
    case 'union':
      return (def['options'] as unknown[]).every((option) => walk(option, seen));
    case 'intersection':
      return child('left') && child('right');
    case 'pipe':
      return child('in') && child('out');
    default:
      return false;
  }
}
