/**
 * Picks the store: MongoDB when a URL is configured (several hub nodes share it), otherwise the
 * embedded LMDB store in `dataDir` (one machine, nothing to run).
 */
import { createLmdbStore } from './store_lmdb.js';
import { createMongoStore } from './store_mongodb.js';
import type { Store } from './store.js';

export * from './store.js';
export { createLmdbStore } from './store_lmdb.js';
export { createMongoStore, redactUrl } from './store_mongodb.js';

export function createStore(options: { dataDir: string; mongodbUrl?: string | undefined }): Promise<Store> {
  return options.mongodbUrl ? createMongoStore(options.mongodbUrl) : createLmdbStore(options.dataDir);
}
