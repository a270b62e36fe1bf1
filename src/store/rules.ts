/**
 * Input rules every Store implementation applies the same way, so both pass one contract suite.
 * Callers (accounts.ts, walkers/data.ts) validate first; these are the store's own backstop.
 */
import { MAX_KV_KEY_LENGTH, MAX_KV_VALUE_BYTES } from './store.js';

export const DEFAULT_KV_LIST_LIMIT = 100;
export const MAX_KV_LIST_LIMIT = 1000;

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// String#isWellFormed is ES2024; the project's lib is ES2023.
const isWellFormed = (s: string): boolean => !LONE_SURROGATE.test(s);

/** Emails are unique after this: trimmed, lower-cased. */
export const normaliseEmail = (email: string): string => email.trim().toLowerCase();

/**
 * Root ids separate walker data with a NUL after them, so they may not contain one.
 * Keys must be well-formed UTF-16: a lone surrogate would encode to U+FFFD in UTF-8 (LMDB's key
 * bytes, BSON strings) and collide with a real U+FFFD. The length limit is in UTF-16 code units
 * (String#length), i.e. at most 1536 UTF-8 bytes, which fits LMDB's 1978-byte key limit.
 */
export function checkKvKey(rootId: string, key: string): void {
  if (rootId.length === 0 || rootId.includes('\u0000') || !isWellFormed(rootId)) {
    throw new RangeError('root id must be a non-empty string without NUL characters');
  }
  if (key.length === 0 || key.length > MAX_KV_KEY_LENGTH || !isWellFormed(key)) {
    throw new RangeError(`data key must be a well-formed string of 1..${MAX_KV_KEY_LENGTH} characters`);
  }
}

/** Prefixes follow the key rules except that the empty prefix (everything) is allowed. */
export function checkKvPrefix(rootId: string, prefix: string): void {
  checkKvKey(rootId, prefix === '' ? 'x' : prefix);
}

/** JSON text of a walker value; values are stored as JSON text so they round-trip exactly. */
export function encodeKvValue(value: unknown): string {
  const json: string | undefined = JSON.stringify(value);
  if (json === undefined) throw new TypeError('data value must be JSON-serialisable');
  if (Buffer.byteLength(json) > MAX_KV_VALUE_BYTES) throw new RangeError(`data value exceeds ${MAX_KV_VALUE_BYTES} bytes as JSON`);
  return json;
}

/** `limit` defaults to 100 and is capped at 1000; anything but a positive integer is a bug. */
export function kvListLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_KV_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('list limit must be a positive integer');
  return Math.min(limit, MAX_KV_LIST_LIMIT);
}
