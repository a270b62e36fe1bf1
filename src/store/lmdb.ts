/**
 * The embedded default store: one LMDB environment (a memory-mapped B+tree file, `walker-hub.mdb`)
 * in the data folder. No server to run. LMDB lets several processes share the file (it serialises
 * writers with a file lock; not over a network file system), but the hub opens it with
 * `exclusive` (store/index.ts): one hub per folder, a second one is refused (data-dir-lock.ts).
 *
 * Atomicity: every conditional write runs inside one lmdb `transaction` callback. LMDB has a single
 * writer, and the callbacks of one batch run one after another in the same write transaction, each
 * seeing the writes of the ones before it, so check-then-put cannot race (two concurrent createUser
 * calls for one email: the second sees the first's index entry).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { DataDirLockedError, lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { createLmdbItems, openItemTables, type LmdbItemTables } from './items-lmdb.js';
import { QueryTooBroadError, type ItemStore } from './items.js';
import { checkKvKey, checkKvPrefix, encodeKvValue, kvListLimit, normaliseEmail } from './rules.js';
import {
  DuplicateUserError,
  StoreUnavailableError,
  type KvEntry,
  type RevocationChanges,
  type Store,
  type TokenRevocation,
  type UserRecord,
  type UserRevocation,
} from './store.js';

const FILE_NAME = 'walker-hub.mdb';
/** Expired token revocations are deleted at open and this often (ms); reads skip them meanwhile. */
const SWEEP_INTERVAL_MS = 10 * 60_000;
/** Upper bound of a key range: valid UTF-8 never contains the byte 0xFF. */
const RANGE_END = Buffer.from([0xff]);

interface Tables {
  /** id -> user */
  users: Database<UserRecord, string>;
  /** normalised email -> user id */
  usersByEmail: Database<string, string>;
  /** root id -> user id */
  usersByRoot: Database<string, string>;
  /** jti -> revocation */
  tokenRevocations: Database<TokenRevocation, string>;
  /** user id -> revocation */
  userRevocations: Database<UserRevocation, string>;
  /** UTF-8 of `${root_id}\0${key}` -> JSON text. Binary keys sort by byte = by code point. */
  kv: Database<string, Uint8Array>;
  /** Items of collections (items-lmdb.ts). */
  items: LmdbItemTables;
}

const describeError = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** `exclusive`: take the folder's lock first (DataDirLockedError when another hub holds it), released by close(). */
export async function createLmdbStore(dataDir: string, options: { exclusive?: boolean } = {}): Promise<Store> {
  const dir = resolve(dataDir);
  let env: RootDatabase;
  let t: Tables;
  let lock: DataDirLock | null = null;
  try {
    await mkdir(dir, { recursive: true });
    if (options.exclusive === true) lock = lockDataDir(dir);
    env = open({
      path: join(dir, FILE_NAME),
      // Durability: lmdb-js defaults to `overlappingSync` on Linux/macOS, where a write's promise
      // resolves once committed but possibly before the fsync (only `db.flushed` says when it is
      // on disk). We turn it off, so each commit fsyncs inside LMDB's commit and every write
      // promise resolves only after its data is on disk: a resolved write survives a process
      // crash or power loss. Writes made in the same event turn still share one commit.
      overlappingSync: false,
    });
    t = {
      users: env.openDB<UserRecord, string>('users', { encoding: 'json' }),
      usersByEmail: env.openDB<string, string>('users_by_email', { encoding: 'string' }),
      usersByRoot: env.openDB<string, string>('users_by_root', { encoding: 'string' }),
      tokenRevocations: env.openDB<TokenRevocation, string>('token_revocations', { encoding: 'json' }),
      userRevocations: env.openDB<UserRevocation, string>('user_revocations', { encoding: 'json' }),
      kv: env.openDB<string, Uint8Array>('kv', { encoding: 'string', keyEncoding: 'binary' }),
      items: openItemTables(env),
    };
  } catch (err) {
    lock?.release();
    if (err instanceof DataDirLockedError) throw err;
    throw new StoreUnavailableError(`cannot open the LMDB store in ${dir}: ${describeError(err)}`, { cause: err });
  }
  const store = new LmdbStore(dir, env, t, lock);
  await store.sweep();
  return store;
}

class LmdbStore implements Store {
  readonly description: string;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  readonly items: ItemStore;

  constructor(
    dir: string,
    private readonly env: RootDatabase,
    private readonly t: Tables,
    private readonly lock: DataDirLock | null,
  ) {
    this.description = `lmdb:${dir}`;
    this.items = createLmdbItems(env, t.items, (what, op) => this.run(what, op));
    this.timer = setInterval(() => {
      this.sweep().catch(() => {
        // Nothing to do: the next sweep retries, and reads skip expired revocations anyway.
      });
    }, SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  /** Runs one store operation; LMDB failures (I/O, a closed store) become StoreUnavailableError. */
  private async run<T>(what: string, op: () => T | Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError(`${this.description} is closed`);
    try {
      return await op();
    } catch (err) {
      // A query refused by its cost is the caller's to narrow, not a store failure.
      if (err instanceof QueryTooBroadError) throw err;
      throw new StoreUnavailableError(`${this.description}: ${what} failed: ${describeError(err)}`, { cause: err });
    }
  }

  async createUser(input: UserRecord): Promise<void> {
    const user: UserRecord = {
      id: input.id,
      email: normaliseEmail(input.email),
      root_id: input.root_id,
      password_hash: input.password_hash,
      created_at: input.created_at,
    };
    const { users, usersByEmail, usersByRoot } = this.t;
    const taken = await this.run('createUser', () =>
      this.env.transaction((): DuplicateUserError['field'] | null => {
        if (usersByEmail.doesExist(user.email)) return 'email';
        if (usersByRoot.doesExist(user.root_id)) return 'root_id';
        if (users.doesExist(user.id)) return 'id';
        users.putSync(user.id, user);
        usersByEmail.putSync(user.email, user.id);
        usersByRoot.putSync(user.root_id, user.id);
        return null;
      }),
    );
    if (taken !== null) throw new DuplicateUserError(taken);
  }

  async findUserByEmail(email: string): Promise<UserRecord | null> {
    return this.run('findUserByEmail', () => {
      const id = this.t.usersByEmail.get(normaliseEmail(email));
      return id === undefined ? null : (this.t.users.get(id) ?? null);
    });
  }

  async findUserById(id: string): Promise<UserRecord | null> {
    return this.run('findUserById', () => this.t.users.get(id) ?? null);
  }

  async revokeToken(r: TokenRevocation): Promise<void> {
    const { tokenRevocations } = this.t;
    const record: TokenRevocation = { jti: r.jti, user_id: r.user_id, expires_at: r.expires_at, revoked_at: r.revoked_at };
    await this.run('revokeToken', () =>
      // The first revocation of a jti stays: a repeat changes nothing (idempotent).
      this.env.transaction(() => {
        if (!tokenRevocations.doesExist(record.jti)) tokenRevocations.putSync(record.jti, record);
      }),
    );
  }

  async revokeUserTokens(r: UserRevocation): Promise<void> {
    const { userRevocations } = this.t;
    const record: UserRevocation = { user_id: r.user_id, before: r.before, revoked_at: r.revoked_at };
    await this.run('revokeUserTokens', () =>
      this.env.transaction(() => {
        const current = userRevocations.get(record.user_id);
        // Only a higher mark is written, so `before` and its `revoked_at` never go back.
        if (current === undefined || current.before < record.before) userRevocations.putSync(record.user_id, record);
      }),
    );
  }

  async revocationsSince(since: number, now: number): Promise<RevocationChanges> {
    // A full scan: token revocations live only until their token expires, so the table stays small.
    return this.run('revocationsSince', () => {
      const tokens: TokenRevocation[] = [];
      for (const { value } of this.t.tokenRevocations.getRange()) {
        if (value.revoked_at >= since && value.expires_at > now) tokens.push(value);
      }
      const users: UserRevocation[] = [];
      for (const { value } of this.t.userRevocations.getRange()) {
        if (value.revoked_at >= since) users.push(value);
      }
      return { tokens, users };
    });
  }

  /** Deletes token revocations whose token has expired (by this machine's clock). */
  async sweep(): Promise<void> {
    const { tokenRevocations } = this.t;
    await this.run('sweep', () =>
      this.env.transaction(() => {
        const now = Date.now();
        const expired: string[] = [];
        for (const { key, value } of tokenRevocations.getRange()) if (value.expires_at <= now) expired.push(key);
        // Removed after the scan, not while its cursor is open.
        for (const key of expired) tokenRevocations.removeSync(key);
      }),
    );
  }

  async kvGet(rootId: string, key: string): Promise<unknown | undefined> {
    checkKvKey(rootId, key);
    const json = await this.run('kvGet', () => this.t.kv.get(kvKey(rootId, key)));
    return json === undefined ? undefined : (JSON.parse(json) as unknown);
  }

  async kvPut(rootId: string, key: string, value: unknown): Promise<void> {
    checkKvKey(rootId, key);
    const json = encodeKvValue(value);
    await this.run('kvPut', () => this.t.kv.put(kvKey(rootId, key), json));
  }

  async kvDelete(rootId: string, key: string): Promise<boolean> {
    checkKvKey(rootId, key);
    const k = kvKey(rootId, key);
    const { kv } = this.t;
    return this.run('kvDelete', () =>
      this.env.transaction(() => {
        const existed = kv.doesExist(k);
        if (existed) kv.removeSync(k);
        return existed;
      }),
    );
  }

  async kvList(rootId: string, options: { prefix?: string; limit?: number } = {}): Promise<KvEntry[]> {
    const prefix = options.prefix ?? '';
    checkKvPrefix(rootId, prefix);
    const limit = kvListLimit(options.limit);
    const start = kvKey(rootId, prefix);
    const keyOffset = Buffer.byteLength(rootId) + 1;
    return this.run('kvList', () => {
      const entries: KvEntry[] = [];
      for (const { key, value } of this.t.kv.getRange({ start, end: Buffer.concat([start, RANGE_END]), limit })) {
        const bytes = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
        entries.push({ key: bytes.toString('utf8', keyOffset), value: JSON.parse(value) as unknown });
      }
      return entries;
    });
  }

  async ping(): Promise<void> {
    await this.run('ping', () => {
      this.env.getStats();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    // lmdb's close waits for writes already queued to commit before it closes the environment.
    try {
      await this.env.close();
    } finally {
      this.lock?.release();
    }
  }
}

/** `${rootId}\0${key}` as UTF-8: roots never contain NUL, so a root's keys form one byte range. */
function kvKey(rootId: string, key: string): Buffer {
  return Buffer.from(`${rootId}\u0000${key}`, 'utf8');
}
