/**
 * Differential test of the compiled input check (src/walkers/compile-input.ts) against zod's own
 * safeParse as the oracle. Safety: whenever fastParse answers (anything but ASK_ZOD), zod accepts
 * the same value and its `data` is the same value (deep, strict, same key order, -0 kept), built
 * fresh (no object or array of the input handed back where the schema builds one). Completeness
 * (speed only): for JSON input inside the supported subset, fastParse answers whenever zod accepts.
 * Random schemas and near-boundary inputs come from a seeded PRNG, so a failure names its seed.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ASK_ZOD, compileInput, type FastParse } from '../../src/walkers/compile-input.js';
import { prng, type Rng } from '../prng.js';

type Schema = z.core.$ZodType;


/** A value rendered with everything JSON.stringify hides: -0, undefined, own key order, `__proto__` as an own key, holes. */
function render(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) {
    const items: string[] = [];
    for (let i = 0; i < v.length; i++) items.push(i in v ? render(v[i]) : '<hole>');
    return `[${items.join(',')}]`;
  }
  if (typeof v === 'object' && v !== null) {
    const proto = Object.getPrototypeOf(v) === Object.prototype ? '' : '<proto!>';
    return `${proto}{${Reflect.ownKeys(v)
      .map((k) => `${typeof k === 'string' ? JSON.stringify(k) : String(k)}:${render((v as Record<PropertyKey, unknown>)[k])}`)
      .join(',')}}`;
  }
  return String(v);
}

/** JSON text as a client could send it: like JSON.stringify, but -0 stays `-0` and ±Infinity becomes an overflowing literal (JSON.parse reads `1e999` as Infinity). */
function toJson(v: unknown): string | undefined {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : v === Infinity ? '1e999' : v === -Infinity ? '-1e999' : JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => toJson(x) ?? 'null').join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const parts: string[] = [];
    for (const k of Object.keys(v)) {
      const text = toJson((v as Record<string, unknown>)[k]);
      if (text !== undefined) parts.push(`${JSON.stringify(k)}:${text}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(v);
}

const viaJson = (v: unknown): unknown => {
  const text = toJson(v);
  return text === undefined ? undefined : JSON.parse(text);
};

/** Sets an own enumerable key, `__proto__` included (a plain assignment would set the prototype). */
function setOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The part of a schema the freshness check needs: where the output must be a new object or array. */
type Shape =
  | { kind: 'leaf' }
  | { kind: 'wrap'; inner: Shape }
  | { kind: 'array'; element: Shape }
  | { kind: 'object'; fields: Record<string, Shape> };

/** Objects and arrays that the schema builds must not be the input's own; `unknown`/`any` pass the input through, as zod does. */
function assertFresh(shape: Shape, out: unknown, input: unknown, path: string): void {
  if (out === null || typeof out !== 'object') return;
  switch (shape.kind) {
    case 'leaf':
      return;
    case 'wrap':
      return assertFresh(shape.inner, out, input, path);
    case 'array':
      if (out === input) throw new Error(`array at ${path || '<root>'} is the input itself`);
      (out as unknown[]).forEach((item, i) => assertFresh(shape.element, item, (input as unknown[])[i], `${path}[${i}]`));
      return;
    case 'object':
      if (out === input) throw new Error(`object at ${path || '<root>'} is the input itself`);
      for (const [key, field] of Object.entries(shape.fields)) {
        if (Object.hasOwn(out, key)) assertFresh(field, (out as Record<string, unknown>)[key], (input as Record<string, unknown>)[key], `${path}.${key}`);
      }
      return;
  }
}

/**
 * The differential check of one input. `json` says the input came from JSON.parse, where the
 * completeness property is asserted too; for other inputs only safety is.
 */
function check(schema: Schema, fast: FastParse, shape: Shape, input: unknown, json: boolean, where: () => string): 'accepted' | 'asked' {
  const got = fast(input);
  const zod = (schema as z.ZodType).safeParse(input);
  try {
    if (got === ASK_ZOD) {
      if (json && zod.success) throw new Error(`completeness: zod accepts ${render(zod.data)} but fastParse asked zod`);
      return 'asked';
    }
    expect(zod.success, `fastParse accepted ${render(got)}, zod rejected: ${zod.success ? '' : JSON.stringify(zod.error.issues)}`).toBe(true);
    expect(render(got)).toBe(render(zod.data));
    expect(JSON.stringify(got)).toBe(JSON.stringify(zod.data));
    expect(got).toStrictEqual(zod.data);
    assertFresh(shape, got, input, '');
    return 'accepted';
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`${where()}\n  input: ${render(input)} (${json ? 'from JSON' : 'direct'})\n  ${message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Random schemas from the supported subset, each with a sampler of near-boundary values.

interface Node {
  schema: Schema;
  desc: string;
  shape: Shape;
  /** A value close to this schema's boundary (valid or just invalid). */
  sample: (r: Rng) => unknown;
  /** For objects: the shape keys, to plant present-undefined values in direct inputs. */
  keys?: string[];
}

const WRONG: readonly unknown[] = [null, 0, -0, 1, 1.5, '', 'x', true, false, [], [1], {}, { a: 1 }];
// Lone high and low surrogates, a pair, and plain text: adjacent lone halves can pair up, on purpose.
const CODE_POINTS = ['a', 'Z', 'é', '😀', '𝄞', '\uD83D', '\uDE00', '\u0000', '"', '\u2028'];
const STRING_BOUNDS = [0, 0, 1, 2, 3, 5];
const ARRAY_BOUNDS = [0, 0, 1, 2, 3];
const NUMBER_BOUNDS = [0, -0, 1, -1, 0.5, 2.5, 100, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, 2 ** 53, -(2 ** 53), 1e-300, 1e308, -1e308];
const SPECIAL_NUMBERS = [0, -0, 1, -1, 0.1, 1.5, 2 ** 31, 2 ** 31 - 1, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32, 2 ** 32 - 1, 2 ** 53, 2 ** 53 - 1, -(2 ** 53), -(2 ** 53) + 1, 2 ** 53 + 2, 1e21, 3.4028234663852886e38, 3.5e38, -3.5e38, 1e308, -1e308, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, NaN];
const KEYS = ['a', 'b', 'c', 'id', 'name', '0', '10', 'é', 'x y', 'ünï'];
const EXTRA_KEYS = ['zz', 'extra', '5', 'A', 'a '];
const LITERALS: readonly (string | number | boolean | null)[] = [0, -0, 1, 2.5, -1, '', 'a', 'b', '😀', 'A', true, false, null];

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
/** The adjacent double above (dir 1) or below (dir -1) x. */
function nextAfter(x: number, dir: 1 | -1): number {
  if (x === 0) return dir * Number.MIN_VALUE;
  f64[0] = x;
  u64[0] = (x > 0) === (dir > 0) ? (u64[0] as bigint) + 1n : (u64[0] as bigint) - 1n;
  return f64[0] as number;
}

function nearNumber(r: Rng, bounds: number[]): number {
  if (bounds.length === 0 || r.chance(0.3)) return r.pick(SPECIAL_NUMBERS);
  const b = r.pick(bounds);
  switch (r.int(7)) {
    case 0:
      return b;
    case 1:
      return nextAfter(b, 1);
    case 2:
      return nextAfter(b, -1);
    case 3:
      return b + r.pick([1, -1]);
    case 4:
      return b + r.pick([0.5, -0.5]);
    case 5:
      return Object.is(b, 0) ? -0 : -b;
    default:
      return b * r.pick([2, 0.5, 1 + 1e-9]);
  }
}

function stringOf(r: Rng, codePoints: number): string {
  let s = '';
  const ascii = r.chance(0.4);
  for (let i = 0; i < codePoints; i++) s += ascii ? 'abc'[r.int(3)] : r.pick(CODE_POINTS);
  return s;
}

/** Length checks for a string or array schema: `.length(n)` one time in five, else `.min`/`.max` each with chance `pSide`. */
function withLengthChecks<S extends { length(n: number): S; min(n: number): S; max(n: number): S }>(r: Rng, start: S, startDesc: string, choices: readonly number[], pSide: number) {
  let schema = start;
  let desc = startDesc;
  const bounds: number[] = [];
  const add = (check: 'length' | 'min' | 'max') => {
    const n = r.pick(choices);
    schema = schema[check](n);
    desc += `.${check}(${n})`;
    bounds.push(n);
  };
  if (r.chance(0.2)) add('length');
  else {
    if (r.chance(pSide)) add('min');
    if (r.chance(pSide)) add('max');
  }
  return { schema, desc, bounds };
}

function genString(r: Rng): Node {
  const { schema, desc, bounds } = withLengthChecks(r, z.string(), 'string()', STRING_BOUNDS, 0.6);
  const sample = (rr: Rng) => {
    const b = bounds.length ? rr.pick(bounds) : rr.int(4);
    const n = Math.max(0, rr.pick([b - 1, b, b, b + 1, 2 * b, 2 * b + 1, 0]));
    return stringOf(rr, n);
  };
  return { schema, desc, shape: { kind: 'leaf' }, sample };
}

function genNumber(r: Rng): Node {
  const base = r.pick(['number', 'number.int', 'int', 'int32', 'uint32', 'float32', 'float64'] as const);
  let schema: z.ZodNumber =
    base === 'number'
      ? z.number()
      : base === 'number.int'
        ? z.number().int()
        : base === 'int'
          ? z.int()
          : base === 'int32'
            ? z.int32()
            : base === 'uint32'
              ? z.uint32()
              : base === 'float32'
                ? z.float32()
                : z.float64();
  let desc = base === 'number.int' ? 'number().int()' : `${base}()`;
  const bounds: number[] = [];
  const checks = r.int(3);
  for (let i = 0; i < checks; i++) {
    const b = r.pick(NUMBER_BOUNDS);
    const op = r.pick(['gt', 'gte', 'lt', 'lte'] as const);
    schema = schema[op](b);
    desc += `.${op}(${render(b)})`;
    bounds.push(b);
  }
  const formatBounds: Record<string, number[]> = {
    int: [2 ** 53 - 1, -(2 ** 53 - 1)],
    'number.int': [2 ** 53 - 1, -(2 ** 53 - 1)],
    int32: [2 ** 31 - 1, -(2 ** 31)],
    uint32: [0, 2 ** 32 - 1],
    float32: [3.4028234663852886e38, -3.4028234663852886e38],
    float64: [Number.MAX_VALUE, -Number.MAX_VALUE],
  };
  const all = [...bounds, ...(formatBounds[base] ?? [])];
  return { schema, desc, shape: { kind: 'leaf' }, sample: (rr) => nearNumber(rr, all) };
}

function genLeaf(r: Rng): Node {
  switch (r.int(10)) {
    case 0:
    case 1:
    case 2:
      return genString(r);
    case 3:
    case 4:
      return genNumber(r);
    case 5:
      return { schema: z.boolean(), desc: 'boolean()', shape: { kind: 'leaf' }, sample: (rr) => rr.pick([true, false, 0, 'true', null]) };
    case 6:
      return { schema: z.null(), desc: 'null()', shape: { kind: 'leaf' }, sample: (rr) => rr.pick([null, null, 0, '', false, 'null']) };
    case 7: {
      const values = Array.from({ length: 1 + r.int(3) }, () => r.pick(LITERALS));
      const schema = values.length === 1 ? z.literal(values[0] as string) : z.literal(values as string[]);
      return { schema, desc: `literal(${render(values)})`, shape: { kind: 'leaf' }, sample: (rr) => (rr.chance(0.7) ? rr.pick(values) : rr.pick(LITERALS)) };
    }
    case 8: {
      const values = [...new Set(Array.from({ length: 1 + r.int(3) }, () => r.pick(['a', 'b', 'c', '', '😀', '0', 'A'])))];
      return {
        schema: z.enum(values as [string, ...string[]]),
        desc: `enum(${render(values)})`,
        shape: { kind: 'leaf' },
        sample: (rr) => (rr.chance(0.7) ? rr.pick(values) : rr.pick(['a', 'b', 'c', 'd', '', 0, null, '😀'])),
      };
    }
    default: {
      const any = r.chance(0.5);
      return { schema: any ? z.any() : z.unknown(), desc: any ? 'any()' : 'unknown()', shape: { kind: 'leaf' }, sample: (rr) => rr.pick(WRONG) };
    }
  }
}

function genArray(r: Rng, depth: number): Node {
  const element = genNode(r, depth + 1);
  const { schema, desc, bounds } = withLengthChecks(r, z.array(element.schema), `array(${element.desc})`, ARRAY_BOUNDS, 0.5);
  const sample = (rr: Rng) => {
    const b = bounds.length ? rr.pick(bounds) : rr.int(3);
    const n = Math.max(0, rr.pick([b - 1, b, b, b + 1]));
    return Array.from({ length: n }, () => element.sample(rr));
  };
  return { schema, desc, shape: { kind: 'array', element: element.shape }, sample };
}

function genObject(r: Rng, depth: number): Node {
  const keys = [...new Set(Array.from({ length: r.int(5) }, () => r.pick(KEYS)))];
  const fields: Record<string, Node> = {};
  for (const key of keys) fields[key] = genField(r, depth + 1);
  const shapeArg = Object.fromEntries(keys.map((k) => [k, (fields[k] as Node).schema]));
  const strict = r.chance(0.4);
  const viaMethod = r.chance(0.5);
  const schema = strict ? (viaMethod ? z.object(shapeArg).strict() : z.strictObject(shapeArg)) : viaMethod ? z.object(shapeArg).strip() : z.object(shapeArg);
  const desc = `${strict ? 'strictObject' : 'object'}({${keys.map((k) => `${JSON.stringify(k)}: ${(fields[k] as Node).desc}`).join(', ')}})`;
  const sample = (rr: Rng) => {
    const entries: Array<[string, unknown]> = [];
    for (const key of keys) {
      const roll = rr.next();
      if (roll < 0.78) entries.push([key, (fields[key] as Node).sample(rr)]);
      else if (roll < 0.86) entries.push([key, null]);
      // else: the key is missing
    }
    if (rr.chance(0.2)) entries.push([rr.pick(EXTRA_KEYS), rr.pick(WRONG)]);
    if (rr.chance(0.1)) entries.push(['__proto__', rr.pick([1, null, {}, { a: 1 }])]);
    // Input key order is random; the output must follow the shape, as zod's does.
    for (let i = entries.length - 1; i > 0; i--) {
      const j = rr.int(i + 1);
      [entries[i], entries[j]] = [entries[j] as [string, unknown], entries[i] as [string, unknown]];
    }
    const o: Record<string, unknown> = {};
    for (const [k, v] of entries) setOwn(o, k, v);
    return o;
  };
  return { schema, desc, shape: { kind: 'object', fields: Object.fromEntries(keys.map((k) => [k, (fields[k] as Node).shape])) }, sample, keys };
}

/** optional / exactOptional / nullable / nullish wrappers (any order), around any node. */
function wrap(r: Rng, node: Node, field: boolean): Node {
  let { schema, desc, shape } = node;
  const sample = node.sample;
  let nullable = false;
  const layers = r.chance(0.5) ? 0 : 1 + r.int(2);
  for (let i = 0; i < layers; i++) {
    const kind = r.pick(field ? (['optional', 'optional', 'nullable', 'nullish', 'exactOptional'] as const) : (['optional', 'nullable', 'nullish', 'exactOptional'] as const));
    schema = kind === 'exactOptional' ? z.exactOptional(schema as z.ZodType) : (schema as z.ZodType)[kind]();
    desc = kind === 'exactOptional' ? `exactOptional(${desc})` : `${desc}.${kind}()`;
    if (kind !== 'optional' && kind !== 'exactOptional') nullable = true;
    shape = { kind: 'wrap', inner: shape };
  }
  return { ...node, schema, desc, shape, sample: (rr) => (nullable && rr.chance(0.15) ? null : sample(rr)) };
}

function genField(r: Rng, depth: number): Node {
  return wrap(r, genNode(r, depth), true);
}

function genNode(r: Rng, depth: number): Node {
  const roll = r.next();
  let node: Node;
  if (depth < 3 && roll < 0.2) node = genObject(r, depth);
  else if (depth < 3 && roll < 0.32) node = genArray(r, depth);
  else node = genLeaf(r);
  // Sometimes any value at all, to hit wrong types: arrays for objects, objects for arrays, null.
  const sample = node.sample;
  return { ...node, sample: (rr) => (rr.chance(0.08) ? rr.pick(WRONG) : sample(rr)) };
}

function genTop(r: Rng): Node {
  // Walker inputs are objects; other roots are covered too.
  const node = r.chance(0.8) ? genObject(r, 0) : genNode(r, 0);
  return r.chance(0.2) ? wrap(r, node, false) : node;
}

describe('compileInput differential fuzz against zod.safeParse', () => {
  const SEEDS = 500;
  const INPUTS_PER_SCHEMA = 24;

  it(`accepts only what zod accepts, with zod's exact output (${SEEDS} seeded schemas × ${INPUTS_PER_SCHEMA} JSON inputs + direct inputs)`, () => {
    let accepted = 0;
    let asked = 0;
    let compiled = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = prng(seed);
      const node = genTop(r);
      const fast = compileInput(node.schema);
      const where = () => `seed ${seed}, schema ${node.desc}`;
      if (fast === null) throw new Error(`${where()}: a supported schema did not compile`);
      compiled++;
      const tally = (v: 'accepted' | 'asked') => (v === 'accepted' ? accepted++ : asked++);
      for (let i = 0; i < INPUTS_PER_SCHEMA; i++) tally(check(node.schema, fast, node.shape, viaJson(node.sample(r)), true, where));
      // A few non-JSON inputs: an own key whose value is undefined, a root of undefined, an array holding undefined.
      for (let i = 0; i < 3; i++) {
        const value = node.sample(r);
        if (node.keys && node.keys.length > 0 && value !== null && typeof value === 'object' && !Array.isArray(value)) {
          setOwn(value as Record<string, unknown>, r.pick(node.keys), undefined);
        }
        tally(check(node.schema, fast, node.shape, value, false, where));
      }
      tally(check(node.schema, fast, node.shape, undefined, false, where));
      tally(check(node.schema, fast, node.shape, [undefined], false, where));
    }
    expect(compiled).toBe(SEEDS);
    // The generator must reach both sides of the boundary often, or the fuzz proves little.
    expect(accepted).toBeGreaterThan(SEEDS * 3);
    expect(asked).toBeGreaterThan(SEEDS * 3);
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-written boundaries, one or more per supported feature.

const ACCEPT = 'accept';
const REJECT = 'reject';
type Case = [name: string, schema: Schema, input: unknown, verdict: typeof ACCEPT | typeof REJECT];

function shapeOf(schema: Schema): Shape {
  const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
  switch (def.type) {
    case 'optional':
    case 'nullable':
      return { kind: 'wrap', inner: shapeOf(def['innerType'] as Schema) };
    case 'array':
      return { kind: 'array', element: shapeOf(def['element'] as Schema) };
    case 'object': {
      const shape = def['shape'] as Record<string, Schema>;
      return { kind: 'object', fields: Object.fromEntries(Object.entries(shape).map(([k, s]) => [k, shapeOf(s)])) };
    }
    default:
      return { kind: 'leaf' };
  }
}

const json = (text: string): unknown => JSON.parse(text);

const CASES: Case[] = [
  // Strings are measured in code points.
  ['max(3): three emoji (6 units, 3 code points)', z.string().max(3), '😀😀😀', ACCEPT],
  ['max(3): four emoji', z.string().max(3), '😀😀😀😀', REJECT],
  ['max(3): abc', z.string().max(3), 'abc', ACCEPT],
  ['max(3): abcd', z.string().max(3), 'abcd', REJECT],
  ['max(0): empty', z.string().max(0), '', ACCEPT],
  ['max(0): one char', z.string().max(0), 'a', REJECT],
  ['max(2): lone high + lone low in wrong order count 2', z.string().max(2), '\uDE00\uD83D', ACCEPT],
  ['max(1): lone high + lone low in wrong order count 2', z.string().max(1), '\uDE00\uD83D', REJECT],
  ['max(1): a pair counts 1', z.string().max(1), '\uD83D\uDE00', ACCEPT],
  ['min(2): one emoji (2 units, 1 code point)', z.string().min(2), '😀', REJECT],
  ['min(2): two emoji', z.string().min(2), '😀😀', ACCEPT],
  ['min(2): emoji + a (3 units, 2 code points)', z.string().min(2), '😀a', ACCEPT],
  ['min(2): two lone surrogates', z.string().min(2), '\uD83D\uD83D', ACCEPT],
  ['min(1): empty', z.string().min(1), '', REJECT],
  ['min(0): empty', z.string().min(0), '', ACCEPT],
  ['length(2): emoji pair', z.string().length(2), '😀😀', ACCEPT],
  ['length(2): one emoji', z.string().length(2), '😀', REJECT],
  ['length(2): three emoji', z.string().length(2), '😀😀😀', REJECT],
  ['length(2): ab', z.string().length(2), 'ab', ACCEPT],
  ['length(2): 𝄞a (3 units)', z.string().length(2), '𝄞a', ACCEPT],
  ['length(0): empty', z.string().length(0), '', ACCEPT],
  ['length(0): a', z.string().length(0), 'a', REJECT],
  ['string: number', z.string(), 1, REJECT],
  ['string: null', z.string(), null, REJECT],
  // Numbers.
  ['number: 1e308', z.number(), 1e308, ACCEPT],
  ['number: Infinity (JSON 1e999)', z.number(), json('1e999'), REJECT],
  ['number: NaN', z.number(), NaN, REJECT],
  ['number: -0 stays -0', z.number(), json('-0'), ACCEPT],
  ['number: string', z.number(), '1', REJECT],
  ['int: 2**53', z.number().int(), 2 ** 53, REJECT],
  ['int: 2**53 - 1', z.number().int(), 2 ** 53 - 1, ACCEPT],
  ['int: -(2**53 - 1)', z.number().int(), -(2 ** 53 - 1), ACCEPT],
  ['int: -(2**53)', z.number().int(), -(2 ** 53), REJECT],
  ['int: 1.5', z.number().int(), 1.5, REJECT],
  ['int: 1e308', z.number().int(), 1e308, REJECT],
  ['z.int(): 2**53', z.int(), 2 ** 53, REJECT],
  ['z.int(): 7', z.int(), 7, ACCEPT],
  ['z.int(): -0', z.int(), -0, ACCEPT],
  ['int32: max', z.int32(), 2 ** 31 - 1, ACCEPT],
  ['int32: max + 1', z.int32(), 2 ** 31, REJECT],
  ['int32: min', z.int32(), -(2 ** 31), ACCEPT],
  ['int32: min - 1', z.int32(), -(2 ** 31) - 1, REJECT],
  ['int32: 0.5', z.int32(), 0.5, REJECT],
  ['uint32: 0', z.uint32(), 0, ACCEPT],
  ['uint32: -1', z.uint32(), -1, REJECT],
  ['uint32: -0', z.uint32(), -0, ACCEPT],
  ['uint32: max', z.uint32(), 2 ** 32 - 1, ACCEPT],
  ['uint32: max + 1', z.uint32(), 2 ** 32, REJECT],
  ['float32: max', z.float32(), 3.4028234663852886e38, ACCEPT],
  ['float32: 3.5e38', z.float32(), 3.5e38, REJECT],
  ['float32: 1.5', z.float32(), 1.5, ACCEPT],
  ['float64: MAX_VALUE', z.float64(), Number.MAX_VALUE, ACCEPT],
  ['float64: -MAX_VALUE', z.float64(), -Number.MAX_VALUE, ACCEPT],
  ['gt(0): 0', z.number().gt(0), 0, REJECT],
  ['gt(0): -0', z.number().gt(0), -0, REJECT],
  ['gt(0): MIN_VALUE', z.number().gt(0), Number.MIN_VALUE, ACCEPT],
  ['gte(0): 0', z.number().gte(0), 0, ACCEPT],
  ['gte(0): -0', z.number().gte(0), -0, ACCEPT],
  ['gte(0): -MIN_VALUE', z.number().gte(0), -Number.MIN_VALUE, REJECT],
  ['gt(-0): 0', z.number().gt(-0), 0, REJECT],
  ['lt(0): -0', z.number().lt(0), -0, REJECT],
  ['lte(-0): 0', z.number().lte(-0), 0, ACCEPT],
  ['positive(): 0', z.number().positive(), 0, REJECT],
  ['nonnegative(): -0', z.number().nonnegative(), -0, ACCEPT],
  ['lt(1): 1 - epsilon', z.number().lt(1), 1 - Number.EPSILON / 2, ACCEPT],
  ['lt(1): 1', z.number().lt(1), 1, REJECT],
  ['lte(2.5): 2.5', z.number().lte(2.5), 2.5, ACCEPT],
  ['lte(2.5): next double up', z.number().lte(2.5), 2.5000000000000004, REJECT],
  ['min(-5).max(-1): -5', z.number().min(-5).max(-1), -5, ACCEPT],
  ['min(-5).max(-1): -5.5', z.number().min(-5).max(-1), -5.5, REJECT],
  ['int().gt(1e21): 2e21 (not safe)', z.number().int().gt(1e21), 2e21, REJECT],
  // Literals, enums, booleans, null.
  ['literal(0): -0 (zod keeps -0)', z.literal(0), json('-0'), ACCEPT],
  ['literal(0): 0', z.literal(0), 0, ACCEPT],
  ['literal(0): "0"', z.literal(0), '0', REJECT],
  ['literal(0): false', z.literal(0), false, REJECT],
  ['literal("😀")', z.literal('😀'), '😀', ACCEPT],
  ['literal(null): null', z.literal(null), null, ACCEPT],
  ['literal([1, "a", true]): true', z.literal([1, 'a', true]), true, ACCEPT],
  ['literal([1, "a", true]): "1"', z.literal([1, 'a', true]), '1', REJECT],
  ['enum: member', z.enum(['a', 'b']), 'b', ACCEPT],
  ['enum: non-member', z.enum(['a', 'b']), 'c', REJECT],
  ['enum: toString is no member', z.enum(['a', 'b']), 'toString', REJECT],
  ['boolean: false', z.boolean(), false, ACCEPT],
  ['boolean: 0', z.boolean(), 0, REJECT],
  ['null: null', z.null(), null, ACCEPT],
  ['null: undefined', z.null(), undefined, REJECT],
  ['unknown: object passes through', z.unknown(), json('{"a":[1]}'), ACCEPT],
  ['any: undefined', z.any(), undefined, ACCEPT],
  // Objects: strip, strict, optional, nullable, key order.
  ['strip: extra key dropped', z.object({ a: z.string() }), json('{"a":"x","b":1}'), ACCEPT],
  ['strict: extra key', z.strictObject({ a: z.string() }), json('{"a":"x","b":1}'), REJECT],
  ['strict via .strict(): extra key', z.object({ a: z.string() }).strict(), json('{"a":"x","b":1}'), REJECT],
  ['strict: exactly the keys', z.strictObject({ a: z.string() }), json('{"a":"x"}'), ACCEPT],
  ['strict: own __proto__ key is unknown', z.strictObject({ a: z.string() }), json('{"a":"x","__proto__":1}'), REJECT],
  ['strip: own __proto__ key dropped', z.object({ a: z.string() }), json('{"__proto__":{"a":"evil"},"a":"x"}'), ACCEPT],
  ['strip: own __proto__ does not supply a missing key', z.object({ a: z.string() }), json('{"__proto__":{"a":"x"}}'), REJECT],
  ['strict: empty shape, empty input', z.strictObject({}), json('{}'), ACCEPT],
  ['strict: empty shape, one key', z.strictObject({}), json('{"a":1}'), REJECT],
  ['object: output keys in shape order', z.object({ b: z.number(), a: z.number(), c: z.number() }), json('{"c":3,"a":1,"b":2}'), ACCEPT],
  ['object: integer-like keys', z.object({ b: z.number(), '10': z.number(), '2': z.number() }), json('{"2":2,"b":1,"10":3}'), ACCEPT],
  ['object: missing required key', z.object({ a: z.string() }), json('{}'), REJECT],
  ['object: missing required unknown', z.object({ a: z.unknown() }), json('{}'), REJECT],
  ['object: present null for unknown', z.object({ a: z.unknown() }), json('{"a":null}'), ACCEPT],
  ['object: array is no object', z.object({}), json('[]'), REJECT],
  ['object: null is no object', z.object({}), null, REJECT],
  ['array: object is no array', z.array(z.number()), json('{"0":1,"length":1}'), REJECT],
  ['optional: absent', z.object({ a: z.string().optional(), b: z.number() }), json('{"b":1}'), ACCEPT],
  ['optional: present', z.object({ a: z.string().optional(), b: z.number() }), json('{"b":1,"a":"x"}'), ACCEPT],
  ['optional: present null', z.object({ a: z.string().optional() }), json('{"a":null}'), REJECT],
  ['optional: wrong type', z.object({ a: z.string().optional() }), json('{"a":1}'), REJECT],
  ['nullable: null', z.object({ a: z.string().nullable() }), json('{"a":null}'), ACCEPT],
  ['nullable: absent', z.object({ a: z.string().nullable() }), json('{}'), REJECT],
  ['nullish: absent', z.object({ a: z.string().nullish() }), json('{}'), ACCEPT],
  ['nullish: null', z.object({ a: z.string().nullish() }), json('{"a":null}'), ACCEPT],
  ['optional().nullable(): absent', z.object({ a: z.string().optional().nullable() }), json('{}'), ACCEPT],
  ['exactOptional: absent', z.object({ a: z.exactOptional(z.string()) }), json('{}'), ACCEPT],
  ['exactOptional: present', z.object({ a: z.exactOptional(z.string()) }), json('{"a":"x"}'), ACCEPT],
  ['exactOptional at the root: undefined', z.exactOptional(z.string()), undefined, REJECT],
  ['exactOptional in an array: undefined', z.array(z.exactOptional(z.string())), [undefined], REJECT],
  ['optional at the root: undefined', z.string().optional(), undefined, ACCEPT],
  ['nullable at the root: null', z.object({}).nullable(), null, ACCEPT],
  ['nested: object in array in object', z.object({ xs: z.array(z.strictObject({ n: z.int() })).min(1) }), json('{"xs":[{"n":1},{"n":2}]}'), ACCEPT],
  ['nested: strict inner extra key', z.object({ xs: z.array(z.strictObject({ n: z.int() })) }), json('{"xs":[{"n":1,"m":2}]}'), REJECT],
  ['nested: wrong inner type', z.object({ o: z.object({ s: z.string().max(1) }) }), json('{"o":{"s":"ab"}}'), REJECT],
  // Arrays count items, not code points.
  ['array max(2): 2 items', z.array(z.string()).max(2), ['😀', '😀'], ACCEPT],
  ['array max(2): 3 items', z.array(z.string()).max(2), ['a', 'b', 'c'], REJECT],
  ['array min(1): empty', z.array(z.string()).min(1), [], REJECT],
  ['array length(0): empty', z.array(z.string()).length(0), [], ACCEPT],
  ['array length(1): 2 items', z.array(z.number()).length(1), [1, 2], REJECT],
  ['array: bad element', z.array(z.number()), [1, '2'], REJECT],
  ['array of unknown: same elements', z.array(z.unknown()), json('[{"a":1},[2]]'), ACCEPT],
];

describe('compileInput hand-written boundaries', () => {
  it.each(CASES)('%s', (name, schema, input, verdict) => {
    const fast = compileInput(schema);
    expect(fast, 'compiles').not.toBeNull();
    const zod = (schema as z.ZodType).safeParse(input);
    expect(zod.success, `zod's own verdict on this case (the case itself is wrong otherwise)`).toBe(verdict === ACCEPT);
    const outcome = check(schema, fast as FastParse, shapeOf(schema), input, true, () => name);
    expect(outcome).toBe(verdict === ACCEPT ? 'accepted' : 'asked');
  });

  it('leaves present-but-undefined optional fields (not JSON) to zod, which keeps the key', () => {
    const schema = z.object({ a: z.string().optional(), b: z.number() });
    const fast = compileInput(schema) as FastParse;
    const input = { a: undefined, b: 1 };
    expect(fast(input)).toBe(ASK_ZOD);
    expect(schema.safeParse(input).data).toStrictEqual({ a: undefined, b: 1 });
    expect(check(schema, fast, shapeOf(schema), input, false, () => 'present undefined')).toBe('asked');
  });

  it('leaves present-but-undefined required unknown fields to zod', () => {
    const schema = z.object({ a: z.unknown() });
    const fast = compileInput(schema) as FastParse;
    expect(fast({ a: undefined })).toBe(ASK_ZOD);
    expect(check(schema, fast, shapeOf(schema), { a: undefined }, false, () => 'unknown undefined')).toBe('asked');
  });

  it('builds a fresh output and leaves the input untouched', () => {
    const schema = z.object({ o: z.object({ xs: z.array(z.number()) }), u: z.unknown() });
    const input = json('{"o":{"xs":[1,2],"extra":true},"u":{"k":1},"drop":1}') as { o: { xs: number[] }; u: unknown };
    const before = render(input);
    const out = (compileInput(schema) as FastParse)(input) as typeof input;
    expect(out).toStrictEqual({ o: { xs: [1, 2] }, u: { k: 1 } });
    expect(out).not.toBe(input);
    expect(out.o).not.toBe(input.o);
    expect(out.o.xs).not.toBe(input.o.xs);
    expect(out.u).toBe(input.u); // zod passes unknown values through as they are
    expect(render(input)).toBe(before);
  });

  it('caches one compiled function per schema', () => {
    const schema = z.object({ a: z.string() });
    expect(compileInput(schema)).toBe(compileInput(schema));
  });
});

// ---------------------------------------------------------------------------------------------
// Outside the subset: compileInput must decline, even when nested.

const nonEnumerableShape = (): Record<string, Schema> => {
  const shape: Record<string, Schema> = { a: z.string() };
  Object.defineProperty(shape, 'hidden', { value: z.string(), enumerable: false });
  return shape;
};

const UNSUPPORTED: Array<[string, () => Schema]> = [
  ['refine', () => z.string().refine((s) => s.length > 0)],
  ['refine on an object', () => z.object({ a: z.string() }).refine(() => true)],
  ['superRefine', () => z.number().superRefine(() => undefined)],
  ['check()', () => z.number().check(() => undefined)],
  ['transform', () => z.string().transform((s) => s.length)],
  ['default', () => z.string().default('x')],
  ['optional field with default', () => z.object({ a: z.string().default('x').optional() })],
  ['prefault', () => z.string().prefault('x')],
  ['catch', () => z.string().catch('x')],
  ['preprocess', () => z.preprocess((v) => v, z.string())],
  ['pipe', () => z.string().pipe(z.string())],
  ['codec / stringbool', () => z.stringbool()],
  ['union', () => z.union([z.string(), z.number()])],
  ['or', () => z.string().or(z.number())],
  ['discriminatedUnion', () => z.discriminatedUnion('k', [z.object({ k: z.literal('a') }), z.object({ k: z.literal('b') })])],
  ['intersection', () => z.intersection(z.object({ a: z.string() }), z.object({ b: z.string() }))],
  ['record', () => z.record(z.string(), z.string())],
  ['map', () => z.map(z.string(), z.string())],
  ['set', () => z.set(z.string())],
  ['tuple', () => z.tuple([z.string()])],
  ['z.email()', () => z.email()],
  ['z.string().email()', () => z.string().email()],
  ['z.uuid()', () => z.uuid()],
  ['z.url()', () => z.url()],
  ['z.iso.datetime()', () => z.iso.datetime()],
  ['regex', () => z.string().regex(/^a/)],
  ['startsWith', () => z.string().startsWith('a')],
  ['includes', () => z.string().includes('a')],
  ['trim', () => z.string().trim()],
  ['toLowerCase', () => z.string().toLowerCase()],
  ['z.coerce.number()', () => z.coerce.number()],
  ['z.coerce.string()', () => z.coerce.string()],
  ['z.coerce.boolean()', () => z.coerce.boolean()],
  ['z.looseObject', () => z.looseObject({ a: z.string() })],
  ['.passthrough()', () => z.object({ a: z.string() }).passthrough()],
  ['typed catchall', () => z.object({ a: z.string() }).catchall(z.number())],
  ['catchall unknown', () => z.object({ a: z.string() }).catchall(z.unknown())],
  ['z.lazy', () => z.lazy(() => z.string())],
  ['recursive getter shape', () => {
    const node = z.object({
      name: z.string(),
      get child() {
        return node.optional();
      },
    });
    return node;
  }],
  ['shape key __proto__', () => z.object({ ['__proto__']: z.string() } as Record<string, Schema>)],
  ['shape key constructor', () => z.object({ constructor: z.string() })],
  ['shape key toString', () => z.object({ toString: z.string() })],
  ['shape key hasOwnProperty', () => z.object({ hasOwnProperty: z.string() })],
  ['shape with a symbol key', () => z.object({ a: z.string(), [Symbol('s')]: z.string() } as Record<string, Schema>)],
  ['shape with a non-enumerable key', () => z.strictObject(nonEnumerableShape())],
  ['multipleOf', () => z.number().multipleOf(2)],
  ['step', () => z.number().step(0.5)],
  ['check with a custom when', () => z.string().min(1, { when: () => true } as Parameters<z.ZodString['min']>[1])],
  ['number check with a custom when', () => z.number().gt(1, { when: () => true } as Parameters<z.ZodNumber['gt']>[1])],
  ['date', () => z.date()],
  ['bigint', () => z.bigint()],
  ['int64', () => z.int64()],
  ['nan', () => z.nan()],
  ['undefined', () => z.undefined()],
  ['void', () => z.void()],
  ['never', () => z.never()],
  ['symbol', () => z.symbol()],
  ['readonly', () => z.object({ a: z.string() }).readonly()],
  ['nonoptional', () => z.string().optional().nonoptional()],
  ['required() (nonoptional fields)', () => z.object({ a: z.string().optional() }).required()],
  ['template literal', () => z.templateLiteral(['a', z.number()])],
  ['custom', () => z.custom<string>((v) => typeof v === 'string')],
  ['instanceof', () => z.instanceof(Date)],
  ['promise', () => z.promise(z.string())],
  ['function-ish: success', () => z.success(z.string())],
  ['max on a string with a non-integer bound', () => z.string().max(2.5)],
  ['max with an infinite bound', () => z.array(z.string()).max(Infinity)],
  ['refine on an optional', () => z.object({ a: z.string().optional().refine(() => true) })],
  ['refine on a nullable', () => z.string().nullable().refine(() => true)],
  ['refine on an array', () => z.array(z.string()).refine(() => true)],
  ['refine on a literal', () => z.literal('a').refine(() => true)],
  ['nested unsupported: email in an array in an object', () => z.object({ a: z.array(z.object({ e: z.email() })) })],
  ['nested unsupported: union in an optional field', () => z.object({ a: z.union([z.string(), z.number()]).optional() })],
  ['nested unsupported: transform in a nullable', () => z.object({ a: z.string().transform((s) => s).nullable() })],
];

describe('compileInput declines schemas outside its subset', () => {
  it.each(UNSUPPORTED)('%s', (_name, make) => {
    expect(compileInput(make())).toBeNull();
  });
});
