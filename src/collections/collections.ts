/**
 * Items of the loaded collections: create, read, update and delete with the collection's access
 * rules and schema, each change handed to the change feed (feed.ts) for live subscribers. One
 * service behind the WebSocket `items` frame, REST `/items/:collection` and walkers' `ctx.items`.
 */
import { nanoid } from 'nanoid';
import { isAuthenticated, type Identity } from '../auth/identity.js';
import { HubError, type Issue } from '../errors.js';
import type { ItemQuery } from '../protocol.js';
import { QueryTooBroadError, type StoredItem } from '../store/items.js';
import { StoreUnavailableError, type Store } from '../store/store.js';
import { parseInput } from '../walkers/parse-input.js';
import type { AccessLevel, ItemAction } from './define.js';
import type { LoadedCollection } from './loader.js';
import { compileQuery, pathsOf, publicItem, type CompiledQuery } from './query.js';

/**
 * Who acts. `identity` null: the server itself (a walker, or a backend with an API key), which
 * access rules do not bind. `owner`: the root id recorded on items it creates.
 */
export interface Actor {
  readonly identity: Identity | null;
  readonly owner: string | null;
}

export type ChangeAction = 'create' | 'update' | 'delete';

/** One committed change of one or more items of a collection; `before` is null for a create, `after` for a delete. */
export interface ItemChange {
  readonly collection: string;
  readonly action: ChangeAction;
  readonly items: ReadonlyArray<{ readonly before: StoredItem | null; readonly after: StoredItem | null }>;
}

/** Largest item (its fields as JSON), bytes. */
export const MAX_ITEM_BYTES = 256 * 1024;
/** Attempts of a read-modify-write that keeps losing to concurrent writers before `item_conflict`. */
const WRITE_ATTEMPTS = 5;

let lastMicros = 0;
/** Now as ISO 8601 with microseconds, strictly increasing within this process (ties broken by a microsecond). */
export function itemTime(): string {
  lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
  const iso = new Date(Math.floor(lastMicros / 1000)).toISOString();
  return `${iso.slice(0, -1)}${String(lastMicros % 1000).padStart(3, '0')}Z`;
}

/** Whether `identity` (null: the server) passes `level`; for `owner`, `itemOwner` undefined means "any own item". */
export function passes(level: AccessLevel, identity: Identity | null, itemOwner?: string | null): boolean {
  if (identity === null) return true;
  switch (level) {
    case 'public':
      return true;
    case 'authenticated':
      return isAuthenticated(identity);
    case 'owner':
      return isAuthenticated(identity) && (itemOwner === undefined || itemOwner === identity.root_id);
    default:
      return false;
  }
}

export class Collections {
  private readonly paths = new Map<string, Map<string, string>>();

  constructor(
    readonly loaded: ReadonlyMap<string, LoadedCollection>,
    private readonly store: Store,
    private readonly changed: (change: ItemChange) => void,
  ) {
    for (const c of loaded.values()) this.paths.set(c.name, pathsOf(c));
  }

  /** Creates the MongoDB indexes of every collection (nothing for LMDB). */
  async prepare(): Promise<void> {
    for (const c of this.loaded.values()) await this.store.items.prepare(c.name, c.indexes.map((f) => `data.${f}`));
  }

  get(name: string): LoadedCollection {
    const collection = this.loaded.get(name);
    if (collection === undefined) {
      const known = [...this.loaded.keys()];
      throw new HubError('unknown_collection', `Unknown collection "${name.slice(0, 128)}"${known.length > 0 ? ` (collections: ${known.join(', ')})` : ' (no collections are loaded)'}`);
    }
    return collection;
  }

  /** Checks `query` against the collection (throws `invalid_query` naming every problem). */
  compile(collection: LoadedCollection, query: ItemQuery | undefined): CompiledQuery {
    return compileQuery(collection, query, this.paths.get(collection.name));
  }

  /** Throws unless `actor` may do `action` on the collection at all (before any item is looked at). */
  checkAccess(collection: LoadedCollection, action: ItemAction, actor: Actor): void {
    const level = collection.access[action];
    if (passes(level, actor.identity)) return;
    if (level === 'none') throw new HubError('forbidden', `Collection "${collection.name}": ${action} is not open to clients`);
    throw new HubError('unauthorized', `Collection "${collection.name}": ${action} requires an authenticated user`);
  }

  async create(name: string, actor: Actor, data: unknown, query?: ItemQuery): Promise<Record<string, unknown>[]> {
    const collection = this.get(name);
    this.checkAccess(collection, 'create', actor);
    const project = query?.fields === undefined ? null : this.compile(collection, query).project;
    const many = Array.isArray(data);
    const inputs = many ? (data as unknown[]) : [data];
    if (inputs.length === 0 || inputs.length > 100) throw new HubError('invalid_item', 'data must be an item or an array of 1 to 100 items');
    const validated: Record<string, unknown>[] = [];
    for (const [i, input] of inputs.entries()) validated.push(await this.validate(collection, input, many ? `${i}` : ''));
    const created: StoredItem[] = [];
    try {
      for (const fields of validated) {
        const now = itemTime();
        const item: StoredItem = { id: nanoid(), owner: actor.owner, created: now, updated: now, rev: 1, data: fields };
        await this.run(() => this.store.items.insert(collection.name, item));
        created.push(item);
      }
    } finally {
      if (created.length > 0) this.changed({ collection: collection.name, action: 'create', items: created.map((after) => ({ before: null, after })) });
    }
    return created.map((item) => (project ?? ((i: StoredItem) => publicItem(collection, i)))(item));
  }

  /** Items matching `query` that `actor` may read (an `owner`-read collection shows each user their own). */
  async read(name: string, actor: Actor, query?: ItemQuery): Promise<Record<string, unknown>[]> {
    const collection = this.get(name);
    this.checkAccess(collection, 'read', actor);
    const compiled = this.compile(collection, query);
    return (await this.query(collection, actor, compiled)).map(compiled.project);
  }

  /** The stored items a compiled query reads for `actor` (read access already checked). */
  async query(collection: LoadedCollection, actor: Actor, compiled: CompiledQuery): Promise<StoredItem[]> {
    let filter = compiled.store.filter;
    if (actor.identity !== null && collection.access.read === 'owner') {
      const own = { kind: 'cmp' as const, path: 'owner', op: 'eq' as const, value: actor.identity.root_id };
      filter = filter === null ? own : { kind: 'and', all: [own, filter] };
    }
    return this.run(() => this.store.items.query(collection.name, { ...compiled.store, filter }));
  }

  /** One item by id; `not_found` when missing or not the actor's to read. */
  async readOne(name: string, actor: Actor, id: string, query?: ItemQuery): Promise<Record<string, unknown>> {
    const collection = this.get(name);
    this.checkAccess(collection, 'read', actor);
    const compiled = this.compile(collection, query);
    const item = await this.run(() => this.store.items.get(collection.name, id));
    if (item === null || !passes(collection.access.read, actor.identity, item.owner)) throw new HubError('not_found', `No item "${id.slice(0, 128)}" in "${collection.name}"`);
    return compiled.project(item);
  }

  /** Applies `patch` to each item; the result must pass the schema. */
  async update(name: string, actor: Actor, ids: readonly string[], patch: unknown, query?: ItemQuery): Promise<Record<string, unknown>[]> {
    const collection = this.get(name);
    this.checkAccess(collection, 'update', actor);
    const project = query?.fields === undefined ? null : this.compile(collection, query).project;
    this.checkFields(collection, patch, '');
    const changes: Array<{ before: StoredItem; after: StoredItem }> = [];
    try {
      for (const id of ids) {
        changes.push(
          await this.rewrite(collection, actor, id, 'update', async (current) => {
            const fields = await this.validate(collection, { ...current.data, ...(patch as Record<string, unknown>) }, '');
            return { ...current, data: fields, updated: itemTime(), rev: current.rev + 1 };
          }),
        );
      }
    } finally {
      if (changes.length > 0) this.changed({ collection: collection.name, action: 'update', items: changes });
    }
    return changes.map(({ after }) => (project ?? ((i: StoredItem) => publicItem(collection, i)))(after));
  }

  /** Deletes each item; returns the ids deleted. */
  async delete(name: string, actor: Actor, ids: readonly string[]): Promise<string[]> {
    const collection = this.get(name);
    this.checkAccess(collection, 'delete', actor);
    const gone: StoredItem[] = [];
    try {
      for (const id of ids) gone.push(await this.rewrite(collection, actor, id, 'delete', null).then((c) => c.before));
    } finally {
      if (gone.length > 0) this.changed({ collection: collection.name, action: 'delete', items: gone.map((before) => ({ before, after: null })) });
    }
    return gone.map((item) => item.id);
  }

  /** Read, check the owner, write if nobody wrote meanwhile (else again, a few times). `next` null: delete. */
  private async rewrite(
    collection: LoadedCollection,
    actor: Actor,
    id: string,
    action: 'update' | 'delete',
    next: ((current: StoredItem) => Promise<StoredItem>) | null,
  ): Promise<{ before: StoredItem; after: StoredItem }> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const current = await this.run(() => this.store.items.get(collection.name, id));
      if (current === null || !passes(collection.access.read === 'owner' ? 'owner' : 'public', actor.identity, current.owner)) {
        throw new HubError('not_found', `No item "${id.slice(0, 128)}" in "${collection.name}"`);
      }
      if (!passes(collection.access[action], actor.identity, current.owner)) throw new HubError('forbidden', `Collection "${collection.name}": only its owner may ${action} this item`);
      if (next === null) {
        if (await this.run(() => this.store.items.remove(collection.name, id, current.rev))) return { before: current, after: current };
        continue;
      }
      const after = await next(current);
      if (await this.run(() => this.store.items.replace(collection.name, after, current.rev))) return { before: current, after };
    }
    throw new HubError('item_conflict');
  }

  /** Unknown and hub-kept fields are refused by name, before the schema sees the input. */
  private checkFields(collection: LoadedCollection, input: unknown, at: string): void {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new HubError('invalid_item', undefined, { issues: [{ path: at || 'data', message: 'must be an object of fields' }] });
    const issues: Issue[] = [];
    for (const key of Object.keys(input)) {
      const path = at === '' ? key : `${at}.${key}`;
      if (key === 'id' || key === 'owner' || key === collection.createdField || key === collection.updatedField) issues.push({ path, message: `"${key}" is kept by the hub and cannot be written` });
      else if (!collection.fields.includes(key)) issues.push({ path, message: `unknown field "${key}" (fields: ${collection.fields.join(', ')})` });
    }
    if (issues.length > 0) throw new HubError('invalid_item', `Item does not match collection "${collection.name}"`, { issues });
  }

  private async validate(collection: LoadedCollection, input: unknown, at: string): Promise<Record<string, unknown>> {
    this.checkFields(collection, input, at);
    const parsed = await parseInput(collection.schema, input);
    if (!parsed.ok) {
      const issues = at === '' ? parsed.issues : parsed.issues.map((i) => ({ path: i.path === '' ? at : `${at}.${i.path}`, message: i.message }));
      throw new HubError('invalid_item', `Item does not match collection "${collection.name}"`, { issues });
    }
    const json = JSON.stringify(parsed.data);
    if (Buffer.byteLength(json) > MAX_ITEM_BYTES) throw new HubError('invalid_item', `An item may be at most ${MAX_ITEM_BYTES} bytes as JSON`);
    // Stored as its JSON form, so what is read back (and sent to other nodes) is what is stored.
    return JSON.parse(json) as Record<string, unknown>;
  }

  /** Store failures as the errors clients see. */
  private async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (err instanceof QueryTooBroadError) throw new HubError('query_too_broad', `The query would examine more than ${err.cap} items of the embedded store; filter less broadly with creation-time order, or use MongoDB`);
      if (err instanceof StoreUnavailableError) throw new HubError('store_unavailable');
      throw err;
    }
  }
}
