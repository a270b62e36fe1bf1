/** Maps verified token claims to an identity. */
import { createHash } from 'node:crypto';
import { HubError } from '../errors.js';
import { PUBLIC_ROOT_ID, type Identity } from './identity.js';
import type { JwtClaims } from './jwt.js';

/**
 * Who vouches for the claims. `hub`: signed with the hub's own secret (the hub's login, or a trusted
 * backend holding the secret), so `root_id` and `email` are taken as they are. `external`: signed by
 * an identity provider's key, which vouches for `iss` + `sub` only; its `root_id`/`email` are used
 * only when the operator opted in (`trustClaims`, --jwt-trust-claims).
 */
export interface ClaimSource {
  readonly origin: 'hub' | 'external';
  readonly trustClaims?: boolean;
}

/** Claims an untrusted identity provider may not set: they would pick another user's root or email. */
const HUB_ONLY_CLAIMS = ['root_id', 'email'] as const;

/**
 * The user id is `sub` (or, on tokens signed with the hub secret, jac-cloud's `id`); the root id is the `root_id` claim when the source is
 * trusted for it, otherwise derived from issuer and subject so the same user always lands on the
 * same root (and two providers' users with the same `sub` never share one).
 */
export function identityFromClaims(verified: JwtClaims, source: ClaimSource = { origin: 'hub' }): Identity {
  const trusted = source.origin === 'hub' || source.trustClaims === true;
  const claims: JwtClaims = trusted ? verified : withoutHubOnlyClaims(verified);
  // jac-cloud's `id` stands in for `sub` only on the hub-secret path: a provider's subject is `sub`.
  const jacId = source.origin === 'hub' && typeof claims['id'] === 'string' ? claims['id'] : null;
  const userId = typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : jacId;
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
  // iat_ms orders revocations to the millisecond; only the hub's own tokens may set it.
  const iatMs = source.origin === 'hub' && typeof claims['iat_ms'] === 'number' ? claims['iat_ms'] : null;
  const issuedAt = iatMs ?? (typeof claims['iat'] === 'number' ? claims['iat'] * 1000 : null);
  return Object.freeze({
    root_id: rootId,
    user_id: userId,
    claims: Object.freeze({ ...claims }),
    expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : null,
    tokenId: typeof claims['jti'] === 'string' ? claims['jti'] : null,
    issuedAt,
  });
}

function withoutHubOnlyClaims(claims: JwtClaims): JwtClaims {
  const copy: JwtClaims = { ...claims };
  for (const name of HUB_ONLY_CLAIMS) delete copy[name];
  return copy;
}
