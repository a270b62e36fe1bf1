/**
 * Items of collections (src/collections/): the storage side. Both stores implement `ItemStore`
 * (items-lmdb.ts, items-mongodb.ts) and pass one contract suite (test/contracts/items.contract.ts).
 *
 * An item is stored as hub-kept fields plus `data`, the collection's own fields as validated by
 * its schema. Queries name fields by store path: `id`, `owner`, `created`, `updated`, or
 * `data.<field>`; the collections layer maps public field names to these and checks them first.
 *
 * Every write is one atomic operation on one item. `rev` starts at 1 and grows by one with each
 * change: `replace` and `remove` apply only when the stored `rev` is the one expected, so a
 * read-modify-write never loses a concurrent change (the caller reads again and retries).
 */

export type Scalar = string | number | boolean | null;

export interface StoredItem {
  readonly id: string;
  /** Root id of the creator; null for items a backend created with an API key. */
  readonly owner: string | null;
  /** ISO 8601, UTC, microseconds: fixed width, so string order is time order. */
  readonly created: string;
  readonly updated: string;
  readonly rev: number;
  readonly data: Readonly<Record<string, unknown>>;
}

export type CompareOp = 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte' | 'contains' | 'in';

export type Condition =
  | { readonly kind: 'cmp'; readonly path: string; readonly op: CompareOp; readonly value: Scalar | readonly Scalar[] }
  | { readonly kind: 'and'; readonly all: readonly Condition[] }
  | { readonly kind: 'or'; readonly all: readonly Condition[] };

export interface SortKey {
  readonly path: string;
  readonly dir: 1 | -1;
}

export interface StoreQuery {
  readonly filter: Condition | null;
  /** Applied in order; `id` in the first key's direction is always the last tiebreaker. */
  readonly sort: readonly SortKey[];
  readonly limit: number;
  readonly offset: number;
}

/** Thrown by the embedded store when a query would examine more items than LMDB_SCAN_CAP. */
export class QueryTooBroadError extends Error {
  constructor(readonly cap: number) {
    super(`the query would examine more than ${cap} items`);
    this.name = 'QueryTooBroadError';
  }
}

export interface ItemStore {
  /** Prepares a collection (MongoDB: its indexes on `indexes`, as `data.<field>` paths). Idempotent. */
  prepare(collection: string, indexes: readonly string[]): Promise<void>;
  insert(collection: string, item: StoredItem): Promise<void>;
  get(collection: string, id: string): Promise<StoredItem | null>;
  /** Writes `next` (whose rev is `expectedRev + 1`) if the stored item is at `expectedRev`; false otherwise. */
  replace(collection: string, next: StoredItem, expectedRev: number): Promise<boolean>;
  /** Deletes the item if it is at `expectedRev`; false otherwise (gone or changed meanwhile). */
  remove(collection: string, id: string, expectedRev: number): Promise<boolean>;
  query(collection: string, query: StoreQuery): Promise<StoredItem[]>;
}

/** Items one embedded-store query may examine (LMDB has no secondary indexes on fields). */
export const LMDB_SCAN_CAP = 10_000;

// ---------------------------------------------------------------------------------------------
// In-memory evaluation, with MongoDB's semantics for the subset used: the embedded store filters
// and sorts with these, and live subscriptions match events with them, so an event reaches a
// subscriber exactly when a query would have returned the item.

/** The value at a store path (`data.x` one level deep); undefined when missing. */
export function valueAt(item: StoredItem, path: string): unknown {
  switch (path) {
    case 'id':
      return item.id;
    case 'owner':
      return item.owner;
    case 'created':
      return item.created;
    case 'updated':
      return item.updated;
    default:
      return path.startsWith('data.') ? item.data[path.slice(5)] : undefined;
  }
}

/** Strings compared by code point (as MongoDB compares UTF-8 bytes), not by UTF-16 unit. */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (an astral code point) sorts above every BMP character, U+E000..U+FFFF included.
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx !== sy) return sx ? (y >= 0xe000 ? 1 : x - y) : x >= 0xe000 ? -1 : x - y;
    return x - y;
  }
  return a.length - b.length;
}

/** MongoDB's order of types for sorting: missing and null, numbers, strings, objects, arrays, booleans. */
function typeRank(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return 1;
  if (typeof v === 'string') return 2;
  if (Array.isArray(v)) return 4;
  if (typeof v === 'object') return 3;
  if (typeof v === 'boolean') return 5;
  return 6;
}

/** Sort order of two field values (objects and arrays compare as equal within their type). */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return 0;
}

/** The comparator of a query's sort, with `id` as the last tiebreaker in the first key's direction. */
export function sortComparator(sort: readonly SortKey[]): (a: StoredItem, b: StoredItem) => number {
  const tie = sort[0]?.dir ?? 1;
  return (a, b) => {
    for (const key of sort) {
      const c = compareValues(valueAt(a, key.path), valueAt(b, key.path));
      if (c !== 0) return c * key.dir;
    }
    return compareStrings(a.id, b.id) * tie;
  };
}

const isScalar = (v: unknown): v is Scalar => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** Equality as MongoDB's `$eq` on a scalar: a missing field equals null. */
function equals(field: unknown, value: Scalar): boolean {
  if (value === null) return field === null || field === undefined;
  return field === value;
}

/** `$lt` and friends: only values of the same type compare (numbers with numbers, strings with strings). */
function ordered(field: unknown, value: Scalar): number | null {
  if (typeof field === 'number' && typeof value === 'number') return field - value;
  if (typeof field === 'string' && typeof value === 'string') return compareStrings(field, value);
  if (typeof field === 'boolean' && typeof value === 'boolean') return Number(field) - Number(value);
  return null;
}

export function matches(item: StoredItem, cond: Condition | null): boolean {
  if (cond === null) return true;
  if (cond.kind === 'and') return cond.all.every((c) => matches(item, c));
  if (cond.kind === 'or') return cond.all.some((c) => matches(item, c));
  const field = valueAt(item, cond.path);
  const value = cond.value;
  switch (cond.op) {
    case 'eq':
      return isScalar(value) && equals(field, value);
    case 'neq':
      return isScalar(value) && !equals(field, value);
    case 'in':
      return Array.isArray(value) && value.some((v) => equals(field, v));
    case 'contains':
      return typeof field === 'string' && typeof value === 'string' && field.includes(value);
    default: {
      if (!isScalar(value)) return false;
      const c = ordered(field, value);
      if (c === null) return false;
      return cond.op === 'lt' ? c < 0 : cond.op === 'lte' ? c <= 0 : cond.op === 'gt' ? c > 0 : c >= 0;
    }
  }
}
