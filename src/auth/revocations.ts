/**
 * The in-memory revocation list. Token checks must stay synchronous (see jwt.ts), so revocations
 * are read from memory: loaded from the store at start, updated locally on logout, and polled
 * from the store so revocations made on other nodes arrive within one sync interval. With a
 * cluster broker they also arrive at once (revocation-relay.ts); the poll stays as the fallback.
 */
import type { Logger } from '../log.js';
import type { RevocationChanges, Store, TokenRevocation, UserRevocation } from '../store/store.js';

/** Called after new revocations took effect (so `isRevoked` already reflects them). */
export type RevocationListener = (changes: RevocationChanges) => void;

/**
 * `expires_at` of a revocation that must never lapse (its token has no `exp`), epoch ms: the
 * latest instant a JS Date (and so a MongoDB TTL index) can hold, year 275760.
 */
export const REVOKED_FOREVER = 8_640_000_000_000_000;

/** Re-read this much history on every poll, so a node whose clock is behind misses nothing. */
const SYNC_OVERLAP_MS = 10_000;

export class Revocations {
  private readonly tokens = new Map<string, number>();
  private readonly users = new Map<string, number>();
  private readonly listeners = new Set<RevocationListener>();
  private readonly localListeners = new Set<RevocationListener>();
  private lastSync = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  /** Whether a token (its jti, subject and issue time in ms) has been revoked. */
  isRevoked(jti: string | undefined, userId: string, issuedAtMs: number | undefined): boolean {
    if (jti !== undefined && this.tokens.has(jti)) return true;
    const before = this.users.get(userId);
    return before !== undefined && (issuedAtMs === undefined || issuedAtMs <= before);
  }

  onRevoked(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Hears revocations made on this node (after they are stored), to tell the other nodes. */
  onLocalRevoke(listener: RevocationListener): () => void {
    this.localListeners.add(listener);
    return () => this.localListeners.delete(listener);
  }

  async revokeToken(revocation: TokenRevocation): Promise<void> {
    await this.store.revokeToken(revocation);
    this.local({ tokens: [revocation], users: [] });
  }

  async revokeUser(revocation: UserRevocation): Promise<void> {
    await this.store.revokeUserTokens(revocation);
    this.local({ tokens: [], users: [revocation] });
  }

  /** Revocations another node announced (already in the store); what is known already is ignored. */
  receive(changes: RevocationChanges): void {
    this.apply(changes);
  }

  private local(changes: RevocationChanges): void {
    this.apply(changes);
    for (const listener of this.localListeners) listener(changes);
  }

  /** Loads everything in force, then polls every `intervalMs` (0 = never). */
  async start(intervalMs: number): Promise<void> {
    await this.sync();
    if (intervalMs > 0) {
      this.timer = setInterval(() => {
        this.sync().catch((err: unknown) => this.log.warn('revocation sync failed; retrying', { error: String(err) }));
      }, intervalMs);
      this.timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async sync(): Promise<void> {
    const now = Date.now();
    const changes = await this.store.revocationsSince(Math.max(0, this.lastSync - SYNC_OVERLAP_MS), now);
    this.lastSync = now;
    this.apply(changes);
    for (const [jti, expiresAt] of this.tokens) if (expiresAt <= now) this.tokens.delete(jti);
  }

  /** Records changes; tells listeners only about what is new. */
  private apply(changes: RevocationChanges): void {
    const fresh: { tokens: TokenRevocation[]; users: UserRevocation[] } = { tokens: [], users: [] };
    for (const t of changes.tokens) {
      if (this.tokens.has(t.jti)) continue;
      this.tokens.set(t.jti, t.expires_at);
      fresh.tokens.push(t);
    }
    for (const u of changes.users) {
      if ((this.users.get(u.user_id) ?? -Infinity) >= u.before) continue;
      this.users.set(u.user_id, u.before);
      fresh.users.push(u);
    }
    if (fresh.tokens.length + fresh.users.length === 0) return;
    for (const listener of this.listeners) listener(fresh);
  }
}
