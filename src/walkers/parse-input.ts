/**
 * Parses a walker's input exactly once, synchronously when the schema is synchronous.
 *
 * Why not `safeParse`, then `safeParseAsync` on zod's `$ZodAsyncError` (as this hub once did)?
 * In zod 4.6.7 a synchronous parse runs each check and, when one returns a promise, throws
 * `$ZodAsyncError` without ever attaching a handler to that promise (core/schemas.js `runChecks`,
 * core/parse.js `_safeParse`). So an async refinement ran twice (side effects twice), and the
 * first run's promise was left unobserved: if it rejected, Node ended the process with an
 * unhandled rejection.
 *
 * First, for the common plain schemas (objects of strings, numbers, enums, arrays… with built-in
 * length and range checks), a compiled accept-only check (compile-input.ts) answers with exactly
 * zod's output, several times faster; whatever it does not accept goes on to zod below, which
 * gives the verdict and the issues. Then there are two paths, and each input takes exactly one:
 *
 * 1. A schema that provably runs no walker code (schema-sync.ts: built-in types and checks only,
 *    decided once per schema) cannot go async, so it takes `safeParse`, zod's fastest path. This
 *    is the hot path of typical walkers (and of the REST benchmark).
 *
 * 2. Any other schema goes through its own entry point, `schema._zod.run`, once, with
 *    `{ async: true }`: what `safeParseAsync` does, minus its unconditional `async` wrapper. In
 *    that mode zod never throws `$ZodAsyncError`; it returns the finished payload synchronously
 *    when every check and transform was synchronous (classic `transform` only goes async when its
 *    function returns a promise), and a promise only when something really was async. So schemas
 *    with synchronous refinements still answer without a promise hop (zod's async mode skips its
 *    compiled fast path, hence path 1), async ones are awaited once, and the one promise there is
 *    goes back to the runner, which always handles its rejection. A refinement that throws
 *    synchronously throws out of this call, into the runner's try/catch.
 *
 * Remaining hole, in zod itself: if one field's async refinement is already pending when a
 * sibling field's refinement throws synchronously, zod drops the pending promise; no caller can
 * observe it. (Path 1 has no walker code, so no such hole.)
 */
import { z } from 'zod';
import { toIssues, type Issue } from '../errors.js';
import type { MaybePromise } from '../maybe.js';
import type { InputSchema } from './define.js';
import { ASK_ZOD, compileInput } from './compile-input.js';
import { runsOnlyZodCode } from './schema-sync.js';

export type ParsedInput = { ok: true; data: unknown } | { ok: false; issues: Issue[] };

type Payload = z.core.ParsePayload;

export type InputParser = (value: unknown) => MaybePromise<ParsedInput>;

/** Parses `value` against `schema` (see `inputParser`, which a hot path keeps instead). */
export function parseInput(schema: InputSchema, value: unknown): MaybePromise<ParsedInput> {
  return inputParser(schema)(value);
}

/** The parse of one schema, its path chosen once (the runner keeps one per walker). */
export function inputParser(schema: InputSchema): InputParser {
  const slow = provablySync(schema) ? (value: unknown) => syncParse(schema, value) : (value: unknown) => asyncModeParse(schema, value);
  // Path 0: the compiled accept-only check (compile-input.ts); anything it does not accept goes on to zod.
  const fast = compileInput(schema);
  if (fast === null) return slow;
  return (value) => {
    const data = fast(value);
    return data !== ASK_ZOD ? { ok: true, data } : slow(value);
  };
}

/** Never throws: a schema whose defs cannot even be walked takes the async-mode parse, correct for every schema. */
function provablySync(schema: InputSchema): boolean {
  try {
    return runsOnlyZodCode(schema);
  } catch {
    return false;
  }
}

function syncParse(schema: InputSchema, value: unknown): ParsedInput {
  const result = schema.safeParse(value);
  return result.success ? { ok: true, data: result.data } : { ok: false, issues: toIssues(result.error.issues) };
}

function asyncModeParse(schema: InputSchema, value: unknown): MaybePromise<ParsedInput> {
  // A fresh context per parse: zod's memoizer keys its per-parse state off this object.
  const ctx: z.core.ParseContextInternal = { async: true };
  const result = schema._zod.run({ value, issues: [] }, ctx);
  return result instanceof Promise ? result.then((payload: Payload) => settle(payload, ctx)) : settle(result, ctx);
}

function settle(payload: Payload, ctx: z.core.ParseContextInternal): ParsedInput {
  if (payload.issues.length === 0) return { ok: true, data: payload.value };
  const config = z.core.config();
  return { ok: false, issues: toIssues(payload.issues.map((issue) => z.core.util.finalizeIssue(issue, ctx, config))) };
}
