/**
 * The key set of an external identity provider: jose fetches and caches it in the background;
 * lookups are synchronous, from what was last fetched.
 */
import type { KeyObject } from 'node:crypto';
import { createRemoteJWKSet } from 'jose';
import type { Logger } from '../log.js';
import { indexJwks, keyFitsAlgorithm } from './jwt.js';

/** How often a configured JWKS is refreshed in the background. */
const JWKS_REFRESH_MS = 10 * 60 * 1000;

export interface KeySet {
  /** The key for a token's `alg` and `kid`, or null (an unknown `kid` triggers a background refresh). */
  publicKey(alg: string, kid: string | undefined): KeyObject | null;
  /** Fetches once (failures are logged, not fatal) and starts the periodic refresh. */
  start(): Promise<void>;
  close(): void;
}

export function createKeySet(url: string, log: Logger): KeySet {
  const remote = createRemoteJWKSet(new URL(url));
  let indexedFrom: unknown = undefined;
  let publicKeys: ReturnType<typeof indexJwks> = [];
  let refreshTimer: NodeJS.Timeout | undefined;

  const reload = () => {
    if (remote.reloading || remote.coolingDown) return;
    remote.reload().catch((err: unknown) => log.warn('could not fetch the JWKS', { url, error: String(err) }));
  };
  return {
    publicKey(alg, kid) {
      const set = remote.jwks();
      if (set !== indexedFrom) {
        indexedFrom = set;
        publicKeys = indexJwks(set as { keys: Array<Record<string, unknown>> } | undefined);
      }
      const candidates = publicKeys.filter((k) => (kid === undefined || k.kid === kid) && (k.alg === undefined || k.alg === alg) && keyFitsAlgorithm(alg, k.key));
      // Without a kid, only an unambiguous key is used.
      if (candidates.length === 1 || (kid !== undefined && candidates.length > 0)) return (candidates[0] as { key: KeyObject }).key;
      // An unknown key may be a rotation: refresh in the background so a retry can succeed.
      if (kid !== undefined) reload();
      return null;
    },
    async start() {
      try {
        await remote.reload();
      } catch (err) {
        log.warn('could not fetch the JWKS at start-up; tokens from it are refused until it is reachable', { url, error: String(err) });
      }
      refreshTimer = setInterval(reload, JWKS_REFRESH_MS);
      refreshTimer.unref();
    },
    close() {
      clearInterval(refreshTimer);
    },
  };
}
