/** Issues the hub's own tokens: HS256 JWTs signed with the hub secret, each with a `jti` and an expiry. */
import { SignJWT } from 'jose';
import { nanoid } from 'nanoid';

/** What a token is issued for. */
export interface TokenSubject {
  readonly id: string;
  readonly root_id: string;
  readonly email: string;
}

export type TokenIssuer = (user: TokenSubject) => Promise<string>;

export function createTokenIssuer(secret: string, ttlSec: number): TokenIssuer {
  const key = new TextEncoder().encode(secret);
  return (user) => {
    const now = Date.now();
    return new SignJWT({ root_id: user.root_id, email: user.email, iat_ms: now })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.id)
      .setJti(nanoid())
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(now / 1000) + ttlSec)
      .sign(key);
  };
}
