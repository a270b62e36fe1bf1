/**
 * Verifies tokens into identities. HS256 tokens are checked with the configured secret; when a JWKS
 * URL is configured, asymmetric tokens from an external identity provider too (jwks.ts holds the
 * key set; jwt.ts verifies synchronously).
 */
import { randomBytes } from 'node:crypto';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { identityFromClaims } from './claims.js';
import { bearerToken, type Identity } from './identity.js';
import { createKeySet } from './jwks.js';
import { JwtError, verifyJwt, type ClaimChecks, type JwtKeys } from './jwt.js';

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
  const keySet = config.jwksUrl ? createKeySet(config.jwksUrl, log) : null;
  const keys: JwtKeys = {
    hmacSecret: new TextEncoder().encode(secret),
    publicKey: (alg, kid) => keySet?.publicKey(alg, kid) ?? null,
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
    start: async () => keySet?.start(),
    close: () => keySet?.close(),
  };
  return { authenticator, secret };
}
