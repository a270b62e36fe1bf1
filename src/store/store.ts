import type { ItemStore } from './items.js';

/**
 * The persistence interface. Two implementations pass one contract suite (test/contracts/store.contract.ts):
 * the embedded default (lmdb.ts, a folder on local disk) and MongoDB (mongodb.ts).
 *
 * Every write is a single atomic operation on one record/document; nothing needs transactions or
 * change streams. Times are epoch milliseconds.
 */

export interface UserRecord {
  /** Opaque, unique (nanoid). */
  readonly id: string;
  /** Normalised (trimmed, lower-case); unique. */
  readonly email: string;
  /** `n::` + 24 hex characters, as in jac-cloud; unique. */
  readonly root_id: string;
  /** `scrypt$...` string from password.ts; never leaves the server. */
  readonly password_hash: string;
  readonly created_at: number;
}

/** One revoked token, kept until the token itself would have expired. */
export interface TokenRevocation {
  readonly jti: string;
  readonly user_id: string;
  /** When the token expires; the revocation may be forgotten after this. */
  readonly expires_at: number;
  /** When the revocation was recorded (used to sync other nodes). */
  readonly revoked_at: number;
}

/** "Every token of this user issued at or before `before` is revoked" (logout everywhere). */
export interface UserRevocation {
  readonly user_id: string;
  /** Tokens with `iat` (in ms) at or before this are revoked. Only ever moves forward. */
  readonly before: number;
  /** When this was last raised (used to sync other nodes). */
  readonly revoked_at: number;
}

export interface RevocationChanges {
  readonly tokens: TokenRevocation[];
  readonly users: UserRevocation[];
}

export interface KvEntry {
  readonly key: string;
  readonly value: unknown;
}

/** Thrown by createUser when the email (or, improbably, the id or root id) is already taken. */
export class DuplicateUserError extends Error {
  constructor(readonly field: 'email' | 'id' | 'root_id') {
    super(`a user with this ${field} already exists`);
    this.name = 'DuplicateUserError';
  }
}

/** Thrown when the backing service cannot be reached or fails; maps to HTTP 503. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * Thrown when an operation does not answer within the store deadline (`storeTimeoutMs`, see
 * deadline.ts). A StoreUnavailableError, so callers answer it as one (503 `store_unavailable`).
 * The operation itself may still complete later: a timed-out write may or may not have happened.
 */
export class StoreTimeoutError extends StoreUnavailableError {
  constructor(
    readonly op: string,
    readonly timeoutMs: number,
    where: string,
  ) {
    super(`${where}: ${op} did not answer within ${timeoutMs} ms`);
    this.name = 'StoreTimeoutError';
  }
}

/** Largest key and largest JSON-encoded value in the walker key-value space. */
export const MAX_KV_KEY_LENGTH = 512;
export const MAX_KV_VALUE_BYTES = 256 * 1024;

export interface Store {
  /** A short description for logs, without credentials (e.g. `lmdb:./data`, `mongodb://host:27017/db`). */
  readonly description: string;

  /** Items of collections (src/collections/), in this same store. */
  readonly items: ItemStore;

  /** Atomically creates the user; throws DuplicateUserError on a taken email/id/root_id. */
  createUser(user: UserRecord): Promise<void>;
  /** `email` is matched after normalisation (trim + lower-case). */
  findUserByEmail(email: string): Promise<UserRecord | null>;
  findUserById(id: string): Promise<UserRecord | null>;

  /** Idempotent. */
  revokeToken(revocation: TokenRevocation): Promise<void>;
  /** Raises the user's `before` mark (never lowers it). */
  revokeUserTokens(revocation: UserRevocation): Promise<void>;
  /** Revocations recorded at or after `since` that are still in force at `now` (0 = all in force). */
  revocationsSince(since: number, now: number): Promise<RevocationChanges>;

  /** Walker data, scoped to a root id. Values are JSON values; keys are strings. */
  kvGet(rootId: string, key: string): Promise<unknown | undefined>;
  kvPut(rootId: string, key: string, value: unknown): Promise<void>;
  /** Returns whether the key existed. */
  kvDelete(rootId: string, key: string): Promise<boolean>;
  /** Entries of one root in key order, optionally only keys starting with `prefix`, at most `limit` (default 100, max 1000). */
  kvList(rootId: string, options?: { prefix?: string; limit?: number }): Promise<KvEntry[]>;

  /** Resolves when the store answers; rejects with StoreUnavailableError otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
