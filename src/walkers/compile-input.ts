/**
 * A compiled fast path for the walker input schemas most walkers declare: objects of strings,
 * numbers, booleans, literals, enums, arrays and nested objects, with zod's built-in length and
 * range checks. Walking zod's generic machinery (a payload object and an issue list per field,
 * each check through `runChecks`) was the largest single cost of a walker call after JSON
 * itself; the compiled function reads each field once and builds the output directly.
 *
 * It only ever accepts. It returns either exactly what `schema.safeParse(value).data` would be (a
 * fresh object, keys in shape order, unknown keys stripped) or `ASK_ZOD`: the value fails, or is
 * in a corner the compiled code does not decide (a string near a length limit that holds
 * surrogate pairs is still decided, by zod's own code-point count). On `ASK_ZOD` the caller runs
 * zod, which produces the verdict and the issues, so a schema feature this file gets wrong can
 * only cost speed if it rejects too much; accepting too much is what the differential test
 * (test/unit/compile-input.test.ts) looks for.
 *
 * `compileInput` returns null for anything outside the subset (refinements, transforms,
 * defaults, unions, records, formats, coercion, passthrough objects, …): those go to zod.
 */
import { z } from 'zod';

type Schema = z.core.$ZodType;
type Def = z.core.$ZodTypeDef & Record<string, unknown>;

export const ASK_ZOD: unique symbol = Symbol('ask zod');
export type FastParse = (value: unknown) => unknown;

/** zod's default `when` of its length checks (any value with a `length`), read off a probe schema. */
const defaultLengthWhen = (z.string().min(1)._zod.def.checks?.[0]?._zod.def as { when?: unknown } | undefined)?.when;

const cache = new WeakMap<Schema, FastParse | null>();

export function compileInput(schema: Schema): FastParse | null {
  let fast = cache.get(schema);
  if (fast === undefined) cache.set(schema, (fast = compile(schema)));
  return fast;
}

class Unsupported extends Error {}

/** Builds the body of `function (v) { … }`; values the code needs (Sets, zod's code-point counter) go in `consts`. */
class Builder {
  readonly lines: string[] = [];
  readonly consts: unknown[] = [];
  private vars = 0;

  fresh(): string {
    return `v${this.vars++}`;
  }

  constant(value: unknown): string {
    let index = this.consts.indexOf(value);
    if (index < 0) index = this.consts.push(value) - 1;
    return `c[${index}]`;
  }

  line(text: string): void {
    this.lines.push(text);
  }
}

const REJECT = 'return R;';

function compile(schema: Schema): FastParse | null {
  const b = new Builder();
  // Any failure (an unsupported part, a def shaped unlike zod 4.6's, code generation disallowed by
  // --disallow-code-generation-from-strings) leaves the schema to zod: never an error at the caller.
  try {
    const out = emit(b, schema, 'v', 0);
    b.line(`return ${out};`);
    // The generated code names only its parameters and locals: `v` (the input), `R` (ASK_ZOD), `c` (constants).
    const factory = new Function('R', 'c', `'use strict'; return function fastParse(v) {\n${b.lines.join('\n')}\n};`) as (r: symbol, c: unknown[]) => FastParse;
    return factory(ASK_ZOD, b.consts);
  } catch {
    return null;
  }
}

/** Emits the checks of `schema` against the expression `input` (a plain local); returns the local holding the output. */
function emit(b: Builder, schema: unknown, input: string, depth: number): string {
  if (depth > 32) throw new Unsupported();
  const def = (schema as Partial<Schema> | null)?._zod?.def as Def | undefined;
  if (def === undefined) throw new Unsupported();
  if (def['coerce'] === true) throw new Unsupported();
  const checks = checksOf(def);
  switch (def.type) {
    case 'string':
      b.line(`if (typeof ${input} !== 'string') ${REJECT}`);
      for (const check of checks) lengthCheck(b, check, input, true);
      return input;
    case 'number':
      b.line(`if (typeof ${input} !== 'number' || !Number.isFinite(${input})) ${REJECT}`);
      for (const check of checks) numberCheck(b, check, input);
      return input;
    case 'boolean':
      noChecks(checks);
      b.line(`if (typeof ${input} !== 'boolean') ${REJECT}`);
      return input;
    case 'null':
      noChecks(checks);
      b.line(`if (${input} !== null) ${REJECT}`);
      return input;
    case 'literal':
    case 'enum': {
      noChecks(checks);
      const values = (schema as Schema)._zod.values;
      if (!(values instanceof Set)) throw new Unsupported();
      b.line(`if (!${b.constant(values)}.has(${input})) ${REJECT}`);
      return input;
    }
    case 'unknown':
    case 'any':
      noChecks(checks);
      return input;
    case 'optional': {
      noChecks(checks);
      // z.exactOptional: absence is allowed only as an absent object key (emitObject peels it there); as a
      // value it runs the inner schema on `undefined` too, so `undefined` is not accepted here.
      if ((schema as Schema)._zod.traits.has('$ZodExactOptional')) return emit(b, def['innerType'], input, depth + 1);
      const out = b.fresh();
      b.line(`let ${out};`);
      b.line(`if (${input} !== undefined) {`);
      b.line(`${out} = ${emit(b, def['innerType'], input, depth + 1)};`);
      b.line('}');
      return out;
    }
    case 'nullable': {
      noChecks(checks);
      const out = b.fresh();
      b.line(`let ${out} = null;`);
      b.line(`if (${input} !== null) {`);
      b.line(`${out} = ${emit(b, def['innerType'], input, depth + 1)};`);
      b.line('}');
      return out;
    }
    case 'array': {
      b.line(`if (!Array.isArray(${input})) ${REJECT}`);
      for (const check of checks) lengthCheck(b, check, input, false);
      const out = b.fresh();
      const i = b.fresh();
      const item = b.fresh();
      b.line(`const ${out} = [];`);
      b.line(`for (let ${i} = 0; ${i} < ${input}.length; ${i}++) {`);
      b.line(`const ${item} = ${input}[${i}];`);
      b.line(`${out}.push(${emit(b, def['element'], item, depth + 1)});`);
      b.line('}');
      return out;
    }
    case 'object':
      noChecks(checks);
      return emitObject(b, def, input, depth);
    default:
      throw new Unsupported();
  }
}

function emitObject(b: Builder, def: Def, input: string, depth: number): string {
  const catchall = def['catchall'] as Schema | undefined;
  // Strip (no catchall) and strict (catchall `never`) only; a passthrough or typed catchall copies unknown keys.
  if (catchall !== undefined && catchall._zod.def.type !== 'never') throw new Unsupported();
  const shape = z.core.util.rawShape(def);
  if (shape === undefined) throw new Unsupported();
  const keys: string[] = [];
  for (const key of Reflect.ownKeys(shape)) {
    const field = Object.getOwnPropertyDescriptor(shape, key);
    // Symbols, `__proto__` (zod skips it), inherited names (`in` would see Object.prototype), getters,
    // non-enumerable keys (zod's shape is an object spread of this one, so it never sees them).
    if (typeof key !== 'string' || key === '__proto__' || key in Object.prototype || field === undefined || field.get !== undefined || !field.enumerable) {
      throw new Unsupported();
    }
    keys.push(key);
  }
  b.line(`if (typeof ${input} !== 'object' || ${input} === null || Array.isArray(${input})) ${REJECT}`);
  if (catchall !== undefined) {
    const known = b.constant(new Set(keys));
    const key = b.fresh();
    b.line(`for (const ${key} in ${input}) if (!${known}.has(${key})) ${REJECT}`);
  }
  const fields: Array<{ key: string; out: string; optional: boolean }> = [];
  for (const key of keys) {
    const fieldSchema = (shape as Record<string, Schema>)[key] as Schema;
    const { optin, optout } = fieldSchema._zod;
    const optional = optin === 'optional' && optout === 'optional';
    if (!optional && (optin !== undefined || optout !== undefined)) throw new Unsupported();
    const k = JSON.stringify(key);
    const value = b.fresh();
    b.line(`const ${value} = ${input}[${k}];`);
    if (optional) {
      // Absent: no key in the output. Present but undefined (not JSON): zod keeps the key; let it decide.
      const out = b.fresh();
      b.line(`let ${out};`);
      b.line(`if (${value} === undefined) { if (${k} in ${input}) ${REJECT} } else {`);
      b.line(`${out} = ${emit(b, unwrapOptional(fieldSchema), value, depth + 1)};`);
      b.line('}');
      fields.push({ key, out, optional: true });
    } else {
      // Required: absent (or undefined, which JSON never makes) fails in zod whatever the type.
      b.line(`if (${value} === undefined) ${REJECT}`);
      fields.push({ key, out: emit(b, fieldSchema, value, depth + 1), optional: false });
    }
  }
  const out = b.fresh();
  if (fields.every((f) => !f.optional)) {
    // One literal: the output's keys in shape order, one hidden class.
    b.line(`const ${out} = {${fields.map((f) => `${JSON.stringify(f.key)}: ${f.out}`).join(', ')}};`);
  } else {
    b.line(`const ${out} = {};`);
    for (const f of fields) {
      const set = `${out}[${JSON.stringify(f.key)}] = ${f.out};`;
      b.line(f.optional ? `if (${f.out} !== undefined) ${set}` : set);
    }
  }
  return out;
}

/** An optional field's value when present: its schema with the outer `optional` peeled off. */
function unwrapOptional(schema: Schema): Schema {
  const def = schema._zod.def as Def;
  if (def.type === 'optional' && checksOf(def).length === 0) return def['innerType'] as Schema;
  return schema;
}

type CheckDef = Record<string, unknown> & { check: string };

/** The schema's checks, its own def first when the schema is itself a check (`z.int()`, `z.email()`). */
function checksOf(def: Def): CheckDef[] {
  const list: CheckDef[] = [];
  if (typeof def['check'] === 'string') list.push(def as unknown as CheckDef);
  for (const check of def.checks ?? []) list.push(check._zod.def as unknown as CheckDef);
  for (const check of list) {
    if (check['when'] !== undefined && check['when'] !== defaultLengthWhen) throw new Unsupported();
  }
  return list;
}

function noChecks(checks: readonly CheckDef[]): void {
  if (checks.length > 0) throw new Unsupported();
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** Strings count code points (zod 4.6's rule; `cpl` is zod's own counter); arrays count items. */
function lengthCheck(b: Builder, check: CheckDef, input: string, isString: boolean): void {
  const len = `${input}.length`;
  const cpl = isString ? b.constant(z.core.util.codePointLength) : null;
  switch (check.check) {
    case 'max_length': {
      const max = check['maximum'];
      if (!isCount(max)) throw new Unsupported();
      // Code points never outnumber UTF-16 units: only an overlong unit count needs the exact count.
      b.line(cpl ? `if (${len} > ${max} && ${cpl}(${input}) > ${max}) ${REJECT}` : `if (${len} > ${max}) ${REJECT}`);
      return;
    }
    case 'min_length': {
      const min = check['minimum'];
      if (!isCount(min)) throw new Unsupported();
      // A code point is at most two units: at least 2×min units always clears the floor.
      b.line(cpl ? `if (${len} < ${min} || (${len} < ${2 * min} && ${cpl}(${input}) < ${min})) ${REJECT}` : `if (${len} < ${min}) ${REJECT}`);
      return;
    }
    case 'length_equals': {
      const exact = check['length'];
      if (!isCount(exact)) throw new Unsupported();
      b.line(cpl ? `if (${len} < ${exact} || ${len} > ${2 * exact} || ${cpl}(${input}) !== ${exact}) ${REJECT}` : `if (${len} !== ${exact}) ${REJECT}`);
      return;
    }
    default:
      throw new Unsupported();
  }
}

/** zod's number_format ranges (`z.int()` is `safeint`). */
const formatRanges: Record<string, readonly [number, number]> = z.core.util.NUMBER_FORMAT_RANGES;

function numberCheck(b: Builder, check: CheckDef, input: string): void {
  switch (check.check) {
    case 'greater_than':
    case 'less_than': {
      const bound = check['value'];
      if (typeof bound !== 'number' || !Number.isFinite(bound)) throw new Unsupported();
      const op = check.check === 'greater_than' ? (check['inclusive'] === true ? '>=' : '>') : check['inclusive'] === true ? '<=' : '<';
      // `!(a op b)`, written with the bound as a literal (String() of a finite number reads back exactly).
      b.line(`if (!(${input} ${op} ${numberLiteral(bound)})) ${REJECT}`);
      return;
    }
    case 'number_format': {
      const format = typeof check['format'] === 'string' ? check['format'] : 'float64';
      const range = Object.hasOwn(formatRanges, format) ? formatRanges[format] : undefined;
      if (range === undefined) throw new Unsupported();
      const [min, max] = range;
      const integer = format.includes('int') ? `!Number.isInteger(${input}) || ` : '';
      b.line(`if (${integer}${input} < ${numberLiteral(min)} || ${input} > ${numberLiteral(max)}) ${REJECT}`);
      return;
    }
    default:
      throw new Unsupported();
  }
}

function numberLiteral(n: number): string {
  return Object.is(n, -0) ? '-0' : `(${String(n)})`;
}
