/**
 * The key set of an external identity provider. jose fetches the JWKS in the background; each time
 * the fetched set changes, its keys are imported and a fast-jwt verifier is built per key, once.
 * Lookups are synchronous, from what was last built, and never fetch or import anything.
 */
import { createRemoteJWKSet } from 'jose';
import type { Logger } from '../log.js';
import { indexJwks, type ClaimRules, type PublicKeyEntry } from './jwt.js';

/** How often a configured JWKS is refreshed in the background. */
const JWKS_REFRESH_MS = 10 * 60 * 1000;
/** After a fetch (successful or not), an unknown `kid` triggers no new one for this long. */
const JWKS_COOLDOWN_MS = 30 * 1000;

export interface KeySet {
  /** The keys last fetched, with their verifiers. The same array until the set changes. */
  entries(): readonly PublicKeyEntry[];
  /** A token named a `kid` that is not in the set: it may be a rotation, so refetch in the background. */
  unknownKid(): void;
  /** Fetches once (failures are logged, not fatal) and starts the periodic refresh. */
  start(): Promise<void>;
  /** Resolves once the fetch in flight, if any, has been applied (tests and shutdown wait on it). */
  settled(): Promise<void>;
  close(): void;
}

export interface KeySetOptions {
  /** Overrides the cooldown between fetches an unknown kid may trigger, ms (tests rotate keys faster than 30 s). */
  readonly cooldownMs?: number;
}

export function createKeySet(url: string, rules: ClaimRules, log: Logger, options: KeySetOptions = {}): KeySet {
  const cooldownMs = options.cooldownMs ?? JWKS_COOLDOWN_MS;
  const remote = createRemoteJWKSet(new URL(url), { cooldownDuration: cooldownMs });
  let indexedFrom: unknown = undefined;
  let indexedJson = '';
  let entries: readonly PublicKeyEntry[] = [];
  let inflight: Promise<void> | null = null;
  let refreshTimer: NodeJS.Timeout | undefined;
  let closed = false;
  // jose cools down only after a success; this also spaces out retries while the provider is down,
  // so a flood of tokens naming unknown kids cannot turn into a flood of fetches.
  let lastFetchAt = -Infinity;

  const apply = () => {
    const set = remote.jwks();
    if (set === indexedFrom || closed) return;
    indexedFrom = set;
    // Every fetch parses a new object; a set whose content did not change keeps its verifiers.
    const json = JSON.stringify(set);
    if (json === indexedJson) return;
    indexedJson = json;
    entries = Object.freeze(indexJwks(set, rules));
    log.info('JWKS loaded', { url, keys: entries.length, usable: entries.filter((e) => e.verify !== null).length });
  };
  const fetchOnce = (what: string): Promise<void> => {
    if (inflight === null) lastFetchAt = Date.now();
    inflight ??= remote
      .reload()
      .then(apply, (err: unknown) => log.warn(what, { url, error: String(err) }))
      .finally(() => {
        inflight = null;
      });
    return inflight;
  };

  return {
    entries: () => entries,
    unknownKid() {
      if (inflight !== null || Date.now() - lastFetchAt < cooldownMs || closed) return;
      void fetchOnce('could not refetch the JWKS for an unknown kid');
    },
    async start() {
      await fetchOnce('could not fetch the JWKS at start-up; tokens from it are refused until it is reachable');
      refreshTimer = setInterval(() => void fetchOnce('could not refresh the JWKS; keeping the keys last fetched'), JWKS_REFRESH_MS);
      refreshTimer.unref();
    },
    settled: async () => {
      await inflight;
    },
    close() {
      closed = true;
      clearInterval(refreshTimer);
    },
  };
}
