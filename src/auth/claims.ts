/** Maps verified token claims to an identity. */
import { createHash } from 'node:crypto';
import { HubError } from '../errors.js';
import { PUBLIC_ROOT_ID, type Identity } from './identity.js';
import type { JwtClaims } from './jwt.js';

/**
 * The user id is `sub` (or jac-cloud's `id`); the root id is the `root_id` claim, or, for
 * identity-provider tokens that have none, derived from issuer and subject so the same user always
 * lands on the same root.
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
