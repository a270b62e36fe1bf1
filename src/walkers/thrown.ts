/**
 * A printable description of whatever a walker threw, for the log. Walkers can throw anything:
 * `null`, a string, an object without a prototype (`String()` of it throws), a Proxy whose traps
 * throw. This never throws, so the error path cannot itself become the crash.
 */
import { inspect } from 'node:util';

export function describeThrown(err: unknown): string {
  try {
    if (err instanceof Error) return typeof err.stack === 'string' ? err.stack : `${err.name}: ${err.message}`;
    if (typeof err === 'string') return `non-Error thrown: ${err}`;
    // Depth and length bounds keep a huge thrown object from flooding the log line.
    return `non-Error thrown: ${inspect(err, { depth: 2, maxArrayLength: 10, maxStringLength: 200, breakLength: Infinity })}`;
  } catch (inner) {
    return `unprintable value thrown (describing it threw ${inner instanceof Error ? inner.name : typeof inner})`;
  }
}
