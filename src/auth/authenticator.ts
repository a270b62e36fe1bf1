/**
 * Verifies tokens into identities. The header's `alg` picks the path, and the paths never mix keys:
 * HS256 is checked with the hub secret only (the hub's own tokens and trusted backends'); asymmetric
 * algorithms with the external identity provider's JWKS only, when one is configured (jwks.ts holds
 * the key set; jwt.ts verifies synchronously).
 */
import { randomBytes } from 'node:crypto';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { identityFromClaims } from './claims.js';
import { bearerToken, type Identity } from './identity.js';
import { createKeySet, type KeySet, type KeySetOptions } from './jwks.js';
import { createSecretVerifier, JwtError, readHeader, selectKey, verifyWithEntry, type ClaimRules } from './jwt.js';
import { HUB_ISSUER } from './tokens.js';

export interface AuthConfig {
  readonly jwtSecret?: string | undefined;
  readonly jwksUrl?: string | undefined;
  readonly jwtIssuer?: string | undefined;
  readonly jwtAudience?: string | undefined;
  /** Take `root_id`/`email` from identity-provider tokens (off: root derived from iss + sub). */
  readonly jwtTrustClaims?: boolean | undefined;
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

/** Allowed clock skew for `exp`, `nbf` and `iat`, seconds. */
export const CLOCK_TOLERANCE_SEC = 5;

/** Generates the per-start secret used when none is configured. Tokens signed with it die with the process. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Answers whether a verified identity's token has been revoked (synchronously, from memory). */
export type RevocationCheck = (identity: Identity) => boolean;

/** The claim rules for identity-provider tokens: issuer, audience and expiry all required. */
export function externalRules(config: AuthConfig): ClaimRules {
  return { issuer: config.jwtIssuer, requireIssuer: true, audience: config.jwtAudience, requireAudience: true, requireExp: true, clockToleranceSec: CLOCK_TOLERANCE_SEC };
}

/**
 * The claim rules for tokens signed with the hub secret: `iss` absent or the hub's own, `aud` absent
 * or containing the configured audience, `exp` optional (jac-cloud backends may omit it).
 */
export function hubRules(config: AuthConfig): ClaimRules {
  return { issuer: HUB_ISSUER, audience: config.jwtAudience, clockToleranceSec: CLOCK_TOLERANCE_SEC };
}

export function createAuthenticator(
  config: AuthConfig,
  log: Logger,
  isRevoked: RevocationCheck = () => false,
  keySetOptions: KeySetOptions = {},
): { authenticator: Authenticator; secret: string; keySet: KeySet | null } {
  let secret = config.jwtSecret;
  if (secret === undefined) {
    secret = randomSecret();
    log.warn('no JWT secret configured (WALKER_HUB_JWT_SECRET): using a random one for this run; tokens will not survive a restart');
  }
  if (config.jwksUrl !== undefined && (config.jwtIssuer === undefined || config.jwtAudience === undefined)) {
    // The config schema refuses this too; an embedder bypassing it must not get an open door.
    throw new Error('a JWKS URL needs both an issuer and an audience');
  }
  const trustClaims = config.jwtTrustClaims === true;
  const hubVerifier = createSecretVerifier(secret, hubRules(config));
  const keySet = config.jwksUrl ? createKeySet(config.jwksUrl, externalRules(config), log, keySetOptions) : null;

  const verifyToken = (token: string): Identity => {
    const { alg, kid } = readHeader(token);
    if (alg === 'HS256') return identityFromClaims(hubVerifier(token), { origin: 'hub' });
    const entry = keySet === null ? null : selectKey(keySet.entries(), alg, kid);
    if (entry === null) {
      if (kid !== undefined) keySet?.unknownKid();
      // The kid is the caller's text: echoed back only cut short.
      throw new JwtError(`No known key for ${alg}${kid !== undefined ? ` kid "${kid.slice(0, 64)}"` : ''}`, 'unknown_key');
    }
    return identityFromClaims(verifyWithEntry(entry, alg, token), { origin: 'external', trustClaims });
  };

  const authenticator: Authenticator = {
    verify(raw) {
      const token = bearerToken(raw);
      if (token === null) throw new HubError('invalid_token', 'Token is empty');
      try {
        const identity = verifyToken(token);
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
  return { authenticator, secret, keySet };
}
