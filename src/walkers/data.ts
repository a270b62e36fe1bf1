/**
 * `ctx.data`: a walker's persistent key-value space, scoped to the caller's root, backed by the
 * configured store (which enforces the key and value rules of store/rules.ts). Public callers share
 * one root, so they get no data space at all.
 */
import { HubError } from '../errors.js';
import type { KvEntry, Store } from '../store/store.js';

export interface WalkerData {
  get(key: string): Promise<unknown | undefined>;
  /** `value` must be JSON-serialisable (at most 256 KiB encoded); keys are 1..512 characters. */
  put(key: string, value: unknown): Promise<void>;
  /** Returns whether the key existed. */
  delete(key: string): Promise<boolean>;
  /** Entries in key order; `prefix` filters, `limit` defaults to 100 (max 1000). */
  list(options?: { prefix?: string; limit?: number }): Promise<KvEntry[]>;
}

export function scopedData(store: Store, rootId: string | null): WalkerData {
  const root = (): string => {
    if (rootId === null) throw new HubError('unauthorized', 'Walker data needs an authenticated caller');
    return rootId;
  };
  return {
    get: async (key) => store.kvGet(root(), key),
    put: async (key, value) => store.kvPut(root(), key, value),
    delete: async (key) => store.kvDelete(root(), key),
    list: async (options) => store.kvList(root(), options),
  };
}
