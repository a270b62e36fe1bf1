/**
 * The MongoDB store, for several hub nodes sharing one database. Every write is one single-document
 * atomic operation guarded by a unique index: no transactions, sessions or change streams, so it
 * runs on a standalone server as well as on a replica set or a sharded cluster.
 *
 * Collections (in the database named by the URL's path, default `walker_hub`):
 *   users              _id = user id; unique indexes on email and root_id
 *   token_revocations  _id = jti; expires_at is a Date with a TTL index, so the server deletes
 *                      expired ones (within about a minute; reads filter them meanwhile)
 *   user_revocations   _id = user id
 *   kv                 _id = `${root_id}\0${key}`; the value is stored as JSON text
 * Durability follows the URL's write concern (e.g. `?w=majority&journal=true`); the driver default
 * is the server's default write concern.
 */
import { MongoClient, MongoError, MongoServerError, type Collection, type Db } from 'mongodb';
import { createMongoItems } from './items-mongodb.js';
import type { ItemStore } from './items.js';
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

const DEFAULT_DB = 'walker_hub';
const DUPLICATE_KEY = 11000;

interface UserDoc { _id: string; email: string; root_id: string; password_hash: string; created_at: number }
interface TokenRevocationDoc { _id: string; user_id: string; expires_at: Date; revoked_at: number }
interface UserRevocationDoc { _id: string; user_id: string; before: number; revoked_at: number }
interface KvDoc { _id: string; root_id: string; key: string; json: string }

/** The parts of a MongoDB URL that are safe to log: scheme, hosts and database, no user or options. */
function parseUrl(url: string): { safe: string; dbName: string } {
  const m = /^(mongodb(?:\+srv)?:\/\/)(.*)$/is.exec(url.trim());
  if (!m) return { safe: '[not a mongodb:// URL]', dbName: DEFAULT_DB };
  let rest = m[2] as string;
  // Credentials end at the last `@`: a password with an unescaped `@` must not leak either. An `@`
  // in the options only costs the hosts in the description, never a secret.
  rest = rest.slice(rest.lastIndexOf('@') + 1);
  rest = rest.split(/[?#]/, 1)[0] as string;
  const slash = rest.indexOf('/');
  const hosts = slash < 0 ? rest : rest.slice(0, slash);
  let dbName = slash < 0 ? '' : rest.slice(slash + 1);
  try {
    dbName = decodeURIComponent(dbName);
  } catch {
    // A malformed %-escape: the driver rejects the URL itself, with its own message.
  }
  return { safe: `${m[1]}${hosts}`, dbName: dbName === '' ? DEFAULT_DB : dbName };
}

/** A MongoDB URL without credentials or options, for messages and logs. */
export function redactUrl(url: string): string {
  const { safe, dbName } = parseUrl(url);
  return safe.startsWith('[') ? safe : `${safe}/${dbName}`;
}

const describeError = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const isDuplicateKey = (err: unknown): err is MongoServerError => err instanceof MongoServerError && err.code === DUPLICATE_KEY;

/** The store deadline when none is given, ms (config's `storeTimeoutMs` default). */
const DEFAULT_TIMEOUT_MS = 5000;

/**
 * `timeoutMs` is the store deadline (deadline.ts enforces it per operation); here it bounds the
 * driver's own waits, which otherwise default to 30 s or none: opening a connection (and so
 * `close()`, whose endSessions may need one), choosing a server, and a socket that has gone silent
 * (dropped at twice the deadline, after the hub has stopped waiting, so the deadline is what callers
 * see and a connection to a hung server is not kept for ever).
 */
export async function createMongoStore(url: string, options: { serverSelectionTimeoutMS?: number; timeoutMs?: number } = {}): Promise<Store> {
  const { dbName } = parseUrl(url);
  const where = redactUrl(url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let client: MongoClient;
  try {
    client = new MongoClient(url, {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? timeoutMs,
      connectTimeoutMS: timeoutMs,
      socketTimeoutMS: 2 * timeoutMs,
    });
  } catch (err) {
    // No `cause`: the driver's parse error may quote the URL, credentials included.
    throw new StoreUnavailableError(`invalid MongoDB URL ${where}: ${describeError(err)}`);
  }
  try {
    await client.connect();
    const db = client.db(dbName);
    await Promise.all([
      db.collection('users').createIndexes([
        { key: { email: 1 }, name: 'email_unique', unique: true },
        { key: { root_id: 1 }, name: 'root_id_unique', unique: true },
      ]),
      db.collection('token_revocations').createIndexes([
        { key: { expires_at: 1 }, name: 'expires_at_ttl', expireAfterSeconds: 0 },
        { key: { revoked_at: 1 }, name: 'revoked_at' },
      ]),
      db.collection('user_revocations').createIndex({ revoked_at: 1 }, { name: 'revoked_at' }),
    ]);
    return new MongoStore(client, db, where);
  } catch (err) {
    await client.close().catch(() => {
      // Already failing: the connection error below is the one worth reporting.
    });
    throw new StoreUnavailableError(`MongoDB at ${where} is unavailable: ${describeError(err)}`, { cause: err });
  }
}

class MongoStore implements Store {
  private closed = false;
  private readonly users: Collection<UserDoc>;
  private readonly tokenRevocations: Collection<TokenRevocationDoc>;
  private readonly userRevocations: Collection<UserRevocationDoc>;
  private readonly kv: Collection<KvDoc>;
  readonly items: ItemStore;

  constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    readonly description: string,
  ) {
    this.users = db.collection<UserDoc>('users');
    this.tokenRevocations = db.collection<TokenRevocationDoc>('token_revocations');
    this.userRevocations = db.collection<UserRevocationDoc>('user_revocations');
    this.kv = db.collection<KvDoc>('kv');
    this.items = createMongoItems(db, (what, op) => this.run(what, op));
  }

  /**
   * Runs one operation. Any MongoDB failure (network, server selection timeout, a server error)
   * becomes StoreUnavailableError; `expected` lets a caller handle one kind itself (duplicate keys).
   */
  private async run<T>(what: string, op: () => Promise<T>, expected?: (err: unknown) => boolean): Promise<T> {
    if (this.closed) throw new StoreUnavailableError(`${this.description} is closed`);
    try {
      return await op();
    } catch (err) {
      if (expected?.(err) || !(err instanceof MongoError)) throw err;
      throw new StoreUnavailableError(`${this.description}: ${what} failed: ${err.message}`, { cause: err });
    }
  }

  /**
   * An upsert that loses a race with a concurrent upsert of the same _id fails with a duplicate
   * key error; running it once more then updates the document the other one inserted.
   */
  private async upsert(what: string, op: () => Promise<unknown>): Promise<void> {
    try {
      await this.run(what, op, isDuplicateKey);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await this.run(what, op);
    }
  }

  async createUser(user: UserRecord): Promise<void> {
    const doc: UserDoc = {
      _id: user.id,
      email: normaliseEmail(user.email),
      root_id: user.root_id,
      password_hash: user.password_hash,
      created_at: user.created_at,
    };
    try {
      await this.run('createUser', () => this.users.insertOne(doc), isDuplicateKey);
    } catch (err) {
      if (isDuplicateKey(err)) throw new DuplicateUserError(duplicateField(err));
      throw err;
    }
  }

  async findUserByEmail(email: string): Promise<UserRecord | null> {
    const doc = await this.run('findUserByEmail', () => this.users.findOne({ email: normaliseEmail(email) }));
    return doc === null ? null : toUser(doc);
  }

  async findUserById(id: string): Promise<UserRecord | null> {
    const doc = await this.run('findUserById', () => this.users.findOne({ _id: id }));
    return doc === null ? null : toUser(doc);
  }

  async revokeToken(r: TokenRevocation): Promise<void> {
    // $setOnInsert: the first revocation of a jti stays; a repeat changes nothing (idempotent).
    const fields = { user_id: r.user_id, expires_at: new Date(r.expires_at), revoked_at: r.revoked_at };
    await this.upsert('revokeToken', () => this.tokenRevocations.updateOne({ _id: r.jti }, { $setOnInsert: fields }, { upsert: true }));
  }

  async revokeUserTokens(r: UserRevocation): Promise<void> {
    // One pipeline update: both expressions read the stored document as it was, so `revoked_at`
    // moves only when `before` is actually raised, and `before` is the $max of the old and new.
    const raised = { $or: [{ $eq: [{ $type: '$before' }, 'missing'] }, { $lt: ['$before', r.before] }] };
    const update = [
      {
        $set: {
          user_id: r.user_id,
          revoked_at: { $cond: [raised, r.revoked_at, '$revoked_at'] },
          before: { $max: ['$before', r.before] },
        },
      },
    ];
    await this.upsert('revokeUserTokens', () => this.userRevocations.updateOne({ _id: r.user_id }, update, { upsert: true }));
  }

  async revocationsSince(since: number, now: number): Promise<RevocationChanges> {
    const [tokens, users] = await this.run('revocationsSince', () =>
      Promise.all([
        this.tokenRevocations.find({ revoked_at: { $gte: since }, expires_at: { $gt: new Date(now) } }).toArray(),
        this.userRevocations.find({ revoked_at: { $gte: since } }).toArray(),
      ]),
    );
    return {
      tokens: tokens.map((d) => ({ jti: d._id, user_id: d.user_id, expires_at: d.expires_at.getTime(), revoked_at: d.revoked_at })),
      users: users.map((d) => ({ user_id: d._id, before: d.before, revoked_at: d.revoked_at })),
    };
  }

  async kvGet(rootId: string, key: string): Promise<unknown | undefined> {
    checkKvKey(rootId, key);
    const doc = await this.run('kvGet', () => this.kv.findOne({ _id: kvId(rootId, key) }, { projection: { json: 1 } }));
    return doc === null ? undefined : (JSON.parse(doc.json) as unknown);
  }

  async kvPut(rootId: string, key: string, value: unknown): Promise<void> {
    checkKvKey(rootId, key);
    const json = encodeKvValue(value);
    await this.upsert('kvPut', () => this.kv.updateOne({ _id: kvId(rootId, key) }, { $set: { root_id: rootId, key, json } }, { upsert: true }));
  }

  async kvDelete(rootId: string, key: string): Promise<boolean> {
    checkKvKey(rootId, key);
    const result = await this.run('kvDelete', () => this.kv.deleteOne({ _id: kvId(rootId, key) }));
    return result.deletedCount === 1;
  }

  async kvList(rootId: string, options: { prefix?: string; limit?: number } = {}): Promise<KvEntry[]> {
    const prefix = options.prefix ?? '';
    checkKvPrefix(rootId, prefix);
    const limit = kvListLimit(options.limit);
    const low = kvId(rootId, prefix);
    // Without a collation MongoDB compares strings by UTF-8 bytes, i.e. by code point, like LMDB.
    const docs = await this.run('kvList', () =>
      this.kv
        .find({ _id: { $gte: low, $lt: nextString(low) } }, { projection: { key: 1, json: 1 } })
        .sort({ _id: 1 })
        .limit(limit)
        .toArray(),
    );
    return docs.map((d) => ({ key: d.key, value: JSON.parse(d.json) as unknown }));
  }

  async ping(): Promise<void> {
    await this.run('ping', () => this.db.command({ ping: 1 }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.close();
  }
}

function toUser(d: UserDoc): UserRecord {
  return { id: d._id, email: d.email, root_id: d.root_id, password_hash: d.password_hash, created_at: d.created_at };
}

/** Which unique index a duplicate key error came from. */
function duplicateField(err: MongoServerError): DuplicateUserError['field'] {
  const pattern: unknown = err['keyPattern'];
  const keys = pattern !== null && typeof pattern === 'object' ? Object.keys(pattern) : [];
  const field = keys[0] ?? /index: (\w+?)_/.exec(err.message)?.[1];
  if (field === 'email' || field === 'root_id') return field;
  return 'id';
}

function kvId(rootId: string, key: string): string {
  return `${rootId}\u0000${key}`;
}

/**
 * The smallest string greater than every string that starts with `s` (in code point order): `s`
 * with its last code point incremented, skipping the surrogate range. `s` always holds the NUL
 * after the root id, so some code point below U+10FFFF is found.
 */
function nextString(s: string): string {
  const cps = Array.from(s, (c) => c.codePointAt(0) as number);
  while (cps.length > 0) {
    const last = cps.pop() as number;
    if (last < 0x10ffff) {
      cps.push(last === 0xd7ff ? 0xe000 : last + 1);
      return String.fromCodePoint(...cps);
    }
  }
  throw new RangeError('no string follows this prefix');
}
