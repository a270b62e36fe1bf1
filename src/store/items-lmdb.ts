/**
 * Items in the embedded LMDB store. Two tables: the items (key `collection NUL id`) and an index
 * by creation time (key `collection NUL created NUL id`), written together in one transaction.
 *
 * Cost (there are no indexes on fields): a query sorted by creation time alone (the default) walks
 * the time index in order and stops once it has `offset + limit` matches; any other sort loads the
 * whole collection, filters and sorts it in memory. Either way a query examines at most
 * LMDB_SCAN_CAP items: past that it fails with QueryTooBroadError (answered as `query_too_broad`),
 * never with a partial answer. Collections larger than that want MongoDB, or creation-time order.
 */
import type { Database, RootDatabase } from 'lmdb';
import { LMDB_SCAN_CAP, matches, QueryTooBroadError, sortComparator, type ItemStore, type StoredItem, type StoreQuery } from './items.js';

/** Upper bound of a key range: valid UTF-8 never contains the byte 0xFF. */
const RANGE_END = Buffer.from([0xff]);

export interface LmdbItemTables {
  items: Database<StoredItem, Uint8Array>;
  itemsByCreated: Database<string, Uint8Array>;
}

export function openItemTables(env: RootDatabase): LmdbItemTables {
  return {
    items: env.openDB<StoredItem, Uint8Array>('items', { encoding: 'json', keyEncoding: 'binary' }),
    itemsByCreated: env.openDB<string, Uint8Array>('items_by_created', { encoding: 'string', keyEncoding: 'binary' }),
  };
}

type Run = <T>(what: string, op: () => T | Promise<T>) => Promise<T>;

const itemKey = (collection: string, id: string) => Buffer.from(`${collection}\u0000${id}`, 'utf8');
const createdKey = (collection: string, created: string, id: string) => Buffer.from(`${collection}\u0000${created}\u0000${id}`, 'utf8');
const prefixOf = (collection: string) => Buffer.from(`${collection}\u0000`, 'utf8');

export function createLmdbItems(env: RootDatabase, t: LmdbItemTables, run: Run): ItemStore {
  const { items, itemsByCreated } = t;
  return {
    async prepare() {
      // Nothing to create: tables are opened with the store.
    },

    async insert(collection, item) {
      const key = itemKey(collection, item.id);
      const inserted = await run('items.insert', () =>
        env.transaction(() => {
          if (items.doesExist(key)) return false;
          items.putSync(key, item);
          itemsByCreated.putSync(createdKey(collection, item.created, item.id), '');
          return true;
        }),
      );
      if (!inserted) throw new Error(`item ${item.id} already exists in ${collection}`);
    },

    async get(collection, id) {
      return run('items.get', () => items.get(itemKey(collection, id)) ?? null);
    },

    async replace(collection, next, expectedRev) {
      const key = itemKey(collection, next.id);
      return run('items.replace', () =>
        env.transaction(() => {
          const current = items.get(key);
          if (current === undefined || current.rev !== expectedRev) return false;
          items.putSync(key, next);
          if (current.created !== next.created) {
            itemsByCreated.removeSync(createdKey(collection, current.created, current.id));
            itemsByCreated.putSync(createdKey(collection, next.created, next.id), '');
          }
          return true;
        }),
      );
    },

    async remove(collection, id, expectedRev) {
      const key = itemKey(collection, id);
      return run('items.remove', () =>
        env.transaction(() => {
          const current = items.get(key);
          if (current === undefined || current.rev !== expectedRev) return false;
          items.removeSync(key);
          itemsByCreated.removeSync(createdKey(collection, current.created, id));
          return true;
        }),
      );
    },

    async query(collection, query) {
      return run('items.query', () => (streams(query) ? byCreated(collection, query) : inMemory(collection, query)));
    },
  };

  /** Walks the creation-time index in the sort's direction, stopping at `offset + limit` matches. */
  function byCreated(collection: string, query: StoreQuery): StoredItem[] {
    const prefix = prefixOf(collection);
    const end = Buffer.concat([prefix, RANGE_END]);
    const reverse = query.sort[0]?.dir === -1;
    const range = reverse ? itemsByCreated.getKeys({ start: end, end: prefix, reverse: true }) : itemsByCreated.getKeys({ start: prefix, end });
    const out: StoredItem[] = [];
    let skip = query.offset;
    let examined = 0;
    for (const key of range) {
      if (examined === LMDB_SCAN_CAP) throw new QueryTooBroadError(LMDB_SCAN_CAP);
      examined++;
      const text = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('utf8');
      const id = text.slice(text.lastIndexOf('\u0000') + 1);
      const item = items.get(itemKey(collection, id));
      if (item === undefined || !matches(item, query.filter)) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      out.push(item);
      if (out.length === query.limit) break;
    }
    return out;
  }

  /** Loads the collection (at most the scan cap), then filters, sorts and pages it. */
  function inMemory(collection: string, query: StoreQuery): StoredItem[] {
    const start = prefixOf(collection);
    const end = Buffer.concat([start, RANGE_END]);
    const all: StoredItem[] = [];
    let examined = 0;
    for (const { value } of items.getRange({ start, end, limit: LMDB_SCAN_CAP + 1 })) {
      if (examined === LMDB_SCAN_CAP) throw new QueryTooBroadError(LMDB_SCAN_CAP);
      examined++;
      if (matches(value, query.filter)) all.push(value);
    }
    all.sort(sortComparator(query.sort));
    return all.slice(query.offset, query.offset + query.limit);
  }
}

/** Whether the query can walk the creation-time index: sorted by creation time alone. */
function streams(query: StoreQuery): boolean {
  return query.sort.length === 1 && query.sort[0]?.path === 'created';
}
