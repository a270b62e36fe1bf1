/**
 * Who is calling. HS256 tokens are checked with the configured secret; when a JWKS URL is
 * configured, asymmetric tokens from an external identity provider too (jose fetches and caches
 * the key set; jwt.ts verifies synchronously).
 */
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet } from 'jose';
import { indexJwks, JwtError, keyFitsAlgorithm, verifyJwt, type ClaimChecks, type JwtClaims, type JwtKeys } from './jwt.js';
import { HubError } from './errors.js';
import type { Logger } from './log.js';

/** The root id every unauthenticated connection shares, as in jac-cloud. */
export const PUBLIC_ROOT_ID = 'n::000000000000000000000001';

export interface Identity {
  readonly root_id: string;
  /** `null` for the public identity. */
  readonly user_id: string | null;
  /** Verified token claims; `null` for the public identity. */
  readonly claims: Readonly<JwtClaims> | null;
  /** Token expiry in epoch ms, if the token has one. */
  readonly expiresAt: number | null;
  /** The token's `jti`, if it has one (tokens the hub issues always do). */
  readonly tokenId: string | null;
  /** When the token was issued, epoch ms (`iat_ms`, else `iat`), if it says. */
  readonly issuedAt: number | null;
}

export const publicIdentity: Identity = Object.freeze({ root_id: PUBLIC_ROOT_ID, user_id: null, claims: null, expiresAt: null, tokenId: null, issuedAt: null });

export const isAuthenticated = (identity: Identity): boolean => identity.user_id !== null;

export interface AuthConfig {
  readonly jwtSecret?: string | undefined;
  readonly jwksUrl?: string | undefined;
  readonly jwtIssuer?: string | undefined;
  readonly jwtAudience?: string | undefined;
}

export interface Authenticator {
  /**
   * Resolves the identity for a raw token (with or without a `Bearer ` prefix); throws HubError
   * `invalid_token`. Synchronous on purpose: see jwt.ts.
   */
  verify(token: string): Identity;
  /** Fetches the JWKS once, if one is configured (failures are logged, not fatal). */
  start(): Promise<void>;
  close(): void;
}

/** Allowed clock skew for `exp` and `nbf`, seconds. */
const CLOCK_TOLERANCE_SEC = 5;
/** How often a configured JWKS is refreshed in the background. */
const JWKS_REFRESH_MS = 10 * 60 * 1000;

/** Strips an optional `Bearer ` prefix (any case); returns null for a blank value. */
export function bearerToken(value: string | null | undefined): string | null {
  if (value == null) return null;
  const token = value.replace(/^\s*bearer\s+/i, '').trim();
  return token === '' ? null : token;
}

/**
 * Maps verified claims to an identity. The user id is `sub` (or jac-cloud's `id`); the root id is
 * the `root_id` claim, or, for identity-provider tokens that have none, derived from issuer and
 * subject so the same user always lands on the same root.
 */
export function identityFromClaims(claims: JwtClaims): Identity {
  const userId = typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : typeof claims['id'] === 'string' ? claims['id'] : null;
  if (userId === null || userId === '') throw new HubError('invalid_token', 'Token has no subject (sub) claim');
  const rootClaim = claims['root_id'];
  let rootId: string;
  if (rootClaim === undefined) {
    rootId = 'n::' + createHash('sha256').update(`${claims.iss ?? ''}\u0000${userId}`).digest('hex').slice(0, 24);
  } else if (typeof rootClaim === 'string' && rootClaim.length > 0 && rootClaim.length <= 256) {
    rootId = rootClaim;
  } else {
    throw new HubError('invalid_token', 'Token root_id claim must be a non-empty string');
  }
  if (rootId === PUBLIC_ROOT_ID) throw new HubError('invalid_token', 'Token may not claim the public root');
  const issuedAt = typeof claims['iat_ms'] === 'number' ? claims['iat_ms'] : typeof claims['iat'] === 'number' ? claims['iat'] * 1000 : null;
  return Object.freeze({
    root_id: rootId,
    user_id: userId,
    claims: Object.freeze({ ...claims }),
    expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : null,
    tokenId: typeof claims['jti'] === 'string' ? claims['jti'] : null,
    issuedAt,
  });
}

/** Generates the per-start secret used when none is configured. Tokens signed with it die with the process. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Answers whether a verified identity's token has been revoked (synchronously, from memory). */
export type RevocationCheck = (identity: Identity) => boolean;

export function createAuthenticator(config: AuthConfig, log: Logger, isRevoked: RevocationCheck = () => false): { authenticator: Authenticator; secret: string } {
  let secret = config.jwtSecret;
  if (secret === undefined) {
    secret = randomSecret();
    log.warn('no JWT secret configured (WALKER_HUB_JWT_SECRET): using a random one for this run; tokens will not survive a restart');
  }
  const checks: ClaimChecks = { issuer: config.jwtIssuer, audience: config.jwtAudience, clockToleranceSec: CLOCK_TOLERANCE_SEC };
  const remote = config.jwksUrl ? createRemoteJWKSet(new URL(config.jwksUrl)) : null;
  let indexedFrom: unknown = undefined;
  let publicKeys: ReturnType<typeof indexJwks> = [];
  let refreshTimer: NodeJS.Timeout | undefined;

  const reload = () => {
    if (!remote || remote.reloading || remote.coolingDown) return;
    remote.reload().catch((err: unknown) => log.warn('could not fetch the JWKS', { url: config.jwksUrl, error: String(err) }));
  };
  const keys: JwtKeys = {
    hmacSecret: new TextEncoder().encode(secret),
    publicKey(alg, kid) {
      const set = remote?.jwks();
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
  };

  const authenticator: Authenticator = {
    verify(raw) {
      const token = bearerToken(raw);
      if (token === null) throw new HubError('invalid_token', 'Token is empty');
      try {
        const identity = identityFromClaims(verifyJwt(token, keys, checks));
        if (isRevoked(identity)) throw new HubError('invalid_token', 'Token has been revoked');
        return identity;
      } catch (err) {
        if (err instanceof JwtError) throw new HubError('invalid_token', err.message);
        throw err;
      }
    },
    async start() {
      if (!remote) return;
      try {
        await remote.reload();
      } catch (err) {
        log.warn('could not fetch the JWKS at start-up; tokens from it are refused until it is reachable', { url: config.jwksUrl, error: String(err) });
      }
      refreshTimer = setInterval(reload, JWKS_REFRESH_MS);
      refreshTimer.unref();
    },
    close() {
      clearInterval(refreshTimer);
    },
  };
  return { authenticator, secret };
}
