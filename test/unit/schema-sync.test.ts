/** Which input schemas may take zod's synchronous parse: only those that run no walker code. */
import { describe, expect, it } from 'vitest';
import { z } from '../../src/index.js';
import { runsOnlyZodCode } from '../../src/walkers/schema-sync.js';
import { parseInput } from '../../src/walkers/parse-input.js';

describe('runsOnlyZodCode', () => {
  it('is true for built-in types and checks, however nested', () => {
    const schema = z.object({
      user: z.string().min(1).max(64).trim(),
      email: z.email().optional(),
      seq: z.number().int().nonnegative().default(0),
      tags: z.array(z.enum(['a', 'b'])).max(3),
      pair: z.tuple([z.string(), z.number()]),
      meta: z.record(z.string(), z.union([z.string(), z.null()])),
      kind: z.discriminatedUnion('k', [z.object({ k: z.literal('x') }), z.object({ k: z.literal('y'), n: z.number() })]).nullable(),
    });
    expect(runsOnlyZodCode(schema)).toBe(true);
    expect(runsOnlyZodCode(z.looseObject({}))).toBe(true);
  });

  it.each([
    ['a refinement', z.object({ a: z.string().refine((v) => v !== 'x') })],
    ['a refinement on the object', z.object({ a: z.string() }).refine(() => true)],
    ['a superRefine deep in an array', z.object({ list: z.array(z.object({ b: z.number().superRefine(() => {}) })) })],
    ['a transform', z.object({ a: z.string().transform((v) => v.length) })],
    ['a preprocess', z.object({ a: z.preprocess((v) => v, z.string()) })],
    ['a lazy schema', z.object({ a: z.lazy(() => z.string()) })],
    ['a getter field', z.object({ get a() { return z.string(); } })],
    ['z.custom', z.object({ a: z.custom<string>((v) => typeof v === 'string') })],
    ['a refinement inside a union', z.object({ a: z.union([z.string(), z.number().refine(async () => true)]) })],
  ])('is false for %s', (_what, schema) => {
    expect(runsOnlyZodCode(schema)).toBe(false);
  });
});

describe('parseInput', () => {
  it('answers synchronously for a schema with synchronous walker code, running it once', () => {
    let calls = 0;
    const schema = z.object({ a: z.string().refine(() => ++calls > 0).transform((v) => v.toUpperCase()) });
    expect(parseInput(schema, { a: 'x' })).toEqual({ ok: true, data: { a: 'X' } });
    expect(calls).toBe(1);
  });

  it('answers with a promise for an async refinement, running it once', async () => {
    let calls = 0;
    const schema = z.object({ a: z.string().refine(async () => ++calls === 0, 'no') });
    const parsed = parseInput(schema, { a: 'x' });
    expect(parsed).toBeInstanceOf(Promise);
    expect(await parsed).toEqual({ ok: false, issues: [{ path: 'a', message: 'no' }] });
    expect(calls).toBe(1);
  });
});
