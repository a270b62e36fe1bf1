/**
 * Who is calling. Verifies JWTs with jose: HS256 with the configured secret, and, when a JWKS URL
 * is configured, asymmetric tokens from an external identity provider.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { HubError } from './errors.js';
import type { Logger } from './log.js';

/** The root id every unauthenticated connection shares, as in jac-cloud. */
export const PUBLIC_ROOT_ID = 'n::000000000000000000000001';

export interface Identity {
  readonly root_id: string;
  /** `null` for the public identity. */
  readonly user_id: string | null;
  /** Verified token claims; `null` for the public identity. */
  readonly claims: Readonly<JWTPayload> | null;
  /** Token expiry in epoch ms, if the token has one. */
  readonly expiresAt: number | null;
}

export const publicIdentity: Identity = Object.freeze({ root_id: PUBLIC_ROOT_ID, user_id: null, claims: null, expiresAt: null });

export const isAuthenticated = (identity: Identity): boolean => identity.user_id !== null;

export interface AuthConfig {
  readonly jwtSecret?: string | undefined;
  readonly jwksUrl?: string | undefined;
  readonly jwtIssuer?: string | undefined;
  readonly jwtAudience?: string | undefined;
}

export interface Authenticator {
  /** Resolves the identity for a raw token (with or without a `Bearer ` prefix); throws HubError `invalid_token`. */
  verify(token: string): Promise<Identity>;
}

const HMAC_ALGS = ['HS256'];
const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

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
export function identityFromClaims(claims: JWTPayload): Identity {
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
  return Object.freeze({ root_id: rootId, user_id: userId, claims: Object.freeze({ ...claims }), expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : null });
}

/** Generates the per-start secret used when none is configured. Tokens signed with it die with the process. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function createAuthenticator(config: AuthConfig, log: Logger): { authenticator: Authenticator; secret: string } {
  let secret = config.jwtSecret;
  if (secret === undefined) {
    secret = randomSecret();
    log.warn('no JWT secret configured (WALKER_HUB_JWT_SECRET): using a random one for this run; tokens will not survive a restart');
  }
  const hmacKey = new TextEncoder().encode(secret);
  const jwks = config.jwksUrl ? createRemoteJWKSet(new URL(config.jwksUrl)) : null;
  const base: JWTVerifyOptions = {};
  if (config.jwtIssuer) base.issuer = config.jwtIssuer;
  if (config.jwtAudience) base.audience = config.jwtAudience;

  const verify = async (raw: string): Promise<Identity> => {
    const token = bearerToken(raw);
    if (token === null) throw new HubError('invalid_token', 'Token is empty');
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new HubError('invalid_token', 'Token is not a JWT');
    }
    try {
      if (alg !== undefined && HMAC_ALGS.includes(alg)) {
        const { payload } = await jwtVerify(token, hmacKey, { ...base, algorithms: HMAC_ALGS });
        return identityFromClaims(payload);
      }
      if (jwks !== null && alg !== undefined && ASYMMETRIC_ALGS.includes(alg)) {
        const { payload } = await jwtVerify(token, jwks, { ...base, algorithms: ASYMMETRIC_ALGS });
        return identityFromClaims(payload);
      }
    } catch (err) {
      if (err instanceof HubError) throw err;
      const code = (err as { code?: unknown }).code;
      if (code === 'ERR_JWT_EXPIRED') throw new HubError('invalid_token', 'Token has expired');
      if (code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JOSE_GENERIC') log.warn('JWKS lookup failed', { error: String(err) });
      throw new HubError('invalid_token');
    }
    throw new HubError('invalid_token', `Token algorithm ${alg ?? '(none)'} is not accepted`);
  };
  return { authenticator: { verify }, secret };
}
