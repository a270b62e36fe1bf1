/**
 * Picks the store: MongoDB when a URL is configured (several hub nodes share it), otherwise the
 * embedded LMDB store in `dataDir` (one machine, nothing to run). The MongoDB store (and with it
 * the driver) is imported only when configured: it costs start-up time for nothing otherwise.
 * Import `createMongoStore` and `redactUrl` from './mongodb.js' where they are wanted.
 */
import { createLmdbStore } from './lmdb.js';
import type { Store } from './store.js';

export * from './store.js';
export { createLmdbStore } from './lmdb.js';
export { DataDirLockedError } from './data-dir-lock.js';

export { withDeadline, type StoreOp } from './deadline.js';

/**
 * `timeoutMs` (the store deadline) also sets the MongoDB driver's connect and socket timeouts.
 * `shared`: a `--workers` worker, whose supervisor holds the data folder's lock for all of them.
 */
export async function createStore(options: { dataDir: string; mongodbUrl?: string | undefined; timeoutMs?: number; shared?: boolean }): Promise<Store> {
  // One hub per data folder: a second one started on it is refused (DataDirLockedError).
  if (!options.mongodbUrl) return createLmdbStore(options.dataDir, { exclusive: options.shared !== true });
  const { createMongoStore } = await import('./mongodb.js');
  return createMongoStore(options.mongodbUrl, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
}
