/**
 * Items in MongoDB: one MongoDB collection per hub collection, `items_<name>`, documents
 * `{_id, owner, created, updated, rev, data}`. Queries run in the database: filters become MongoDB
 * operators, sorts and paging are the server's. `prepare` creates the indexes queries use: creation
 * and update time, owner with creation time (the filter every `owner`-read query carries), and each
 * field the collection lists in `indexes`.
 */
import type { Db, Document, Filter, Sort } from 'mongodb';
import type { Condition, ItemStore, StoredItem, StoreQuery } from './items.js';

interface ItemDoc {
  _id: string;
  owner: string | null;
  created: string;
  updated: string;
  rev: number;
  data: Record<string, unknown>;
}

type Run = <T>(what: string, op: () => Promise<T>) => Promise<T>;

const mongoPath = (path: string) => (path === 'id' ? '_id' : path);
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const toDoc = (item: StoredItem): ItemDoc => ({ _id: item.id, owner: item.owner, created: item.created, updated: item.updated, rev: item.rev, data: { ...item.data } });
const toItem = (d: ItemDoc): StoredItem => ({ id: d._id, owner: d.owner, created: d.created, updated: d.updated, rev: d.rev, data: d.data });

/** A condition as a MongoDB filter. */
export function toMongoFilter(cond: Condition): Document {
  if (cond.kind === 'and') return { $and: cond.all.map(toMongoFilter) };
  if (cond.kind === 'or') return { $or: cond.all.map(toMongoFilter) };
  const path = mongoPath(cond.path);
  if (cond.op === 'contains') return { [path]: { $regex: escapeRegex(String(cond.value)) } };
  return { [path]: { [`$${cond.op === 'neq' ? 'ne' : cond.op}`]: cond.value } };
}

export function createMongoItems(db: Db, run: Run): ItemStore {
  const coll = (name: string) => db.collection<ItemDoc>(`items_${name}`);
  return {
    async prepare(collection, indexes) {
      await run('items.prepare', () =>
        coll(collection).createIndexes([
          { key: { created: 1 }, name: 'created' },
          { key: { updated: 1 }, name: 'updated' },
          { key: { owner: 1, created: 1 }, name: 'owner_created' },
          ...indexes.map((path) => ({ key: { [path]: 1 }, name: path })),
        ]),
      );
    },

    async insert(collection, item) {
      await run('items.insert', () => coll(collection).insertOne(toDoc(item)));
    },

    async get(collection, id) {
      const doc = await run('items.get', () => coll(collection).findOne({ _id: id }));
      return doc === null ? null : toItem(doc);
    },

    async replace(collection, next, expectedRev) {
      const result = await run('items.replace', () => coll(collection).replaceOne({ _id: next.id, rev: expectedRev }, toDoc(next)));
      return result.matchedCount === 1;
    },

    async remove(collection, id, expectedRev) {
      const result = await run('items.remove', () => coll(collection).deleteOne({ _id: id, rev: expectedRev }));
      return result.deletedCount === 1;
    },

    async query(collection, query: StoreQuery) {
      const filter = (query.filter === null ? {} : toMongoFilter(query.filter)) as Filter<ItemDoc>;
      const sort: Record<string, 1 | -1> = {};
      for (const key of query.sort) sort[mongoPath(key.path)] ??= key.dir;
      sort['_id'] ??= query.sort[0]?.dir ?? 1;
      const docs = await run('items.query', () =>
        coll(collection)
          .find(filter)
          .sort(sort as Sort)
          .skip(query.offset)
          .limit(query.limit)
          .toArray(),
      );
      return docs.map(toItem);
    },
  };
}
