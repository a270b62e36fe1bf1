/** Who is calling: the identity model every layer shares (the public identity, or a verified token's). */
import type { JwtClaims } from './jwt.js';

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

/** Strips an optional `Bearer ` prefix (any case); returns null for a blank value. */
export function bearerToken(value: string | null | undefined): string | null {
  // No header (the usual public call): no regular expression to run.
  if (value == null || value === '') return null;
  const token = value.replace(/^\s*bearer\s+/i, '').trim();
  return token === '' ? null : token;
}
