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
 * Instead we call the schema's own entry point, `schema._zod.run`, once, with `{ async: true }`:
 * that is what `safeParseAsync` does, minus its unconditional `async` wrapper. In that mode zod
 * never throws `$ZodAsyncError`; it returns the finished payload synchronously when every check
 * and transform was synchronous (classic `transform` only goes async when its function returns a
 * promise), and a promise only when something really was async. So synchronous schemas keep
 * their no-promise fast path, async ones are awaited once, and the one promise there is goes back
 * to the runner, which always handles its rejection. A refinement that throws synchronously
 * throws out of this call, into the runner's try/catch.
 *
 * Remaining hole, in zod itself: if one field's async refinement is already pending when a
 * sibling field's refinement throws synchronously, zod drops the pending promise; no caller can
 * observe it.
 */
import { z } from 'zod';
import { toIssues, type Issue } from '../errors.js';
import type { MaybePromise } from '../maybe.js';
import type { InputSchema } from './define.js';

export type ParsedInput = { ok: true; data: unknown } | { ok: false; issues: Issue[] };

type Payload = z.core.ParsePayload;

export function parseInput(schema: InputSchema, value: unknown): MaybePromise<ParsedInput> {
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
