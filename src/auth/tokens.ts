/** Issues the hub's own tokens: HS256 JWTs signed with the hub secret, each with a `jti` and an expiry. */
import { SignJWT } from 'jose';
import { nanoid } from 'nanoid';

/**
 * The `iss` of every token the hub issues. Tokens signed with the hub secret may carry this issuer
 * or none (trusted backends, jac-cloud style); any other issuer is refused on that path.
 */
export const HUB_ISSUER = 'walker-hub';

/** What a token is issued for. */
export interface TokenSubject {
  readonly id: string;
  readonly root_id: string;
  readonly email: string;
}

export type TokenIssuer = (user: TokenSubject) => Promise<string>;

/** `audience`, when the hub has one configured (--jwt-audience), goes into every token as `aud`. */
export function createTokenIssuer(secret: string, ttlSec: number, audience?: string): TokenIssuer {
  const key = new TextEncoder().encode(secret);
  return (user) => {
    const now = Date.now();
    const jwt = new SignJWT({ root_id: user.root_id, email: user.email, iat_ms: now })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(HUB_ISSUER)
      .setSubject(user.id)
      .setJti(nanoid())
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(now / 1000) + ttlSec);
    if (audience !== undefined) jwt.setAudience(audience);
    return jwt.sign(key);
  };
}
