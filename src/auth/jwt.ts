/**
 * Synchronous JWS/JWT verification with node:crypto.
 *
 * Why not jose's `jwtVerify`: it is async (WebCrypto), which forces an asynchronous WebSocket
 * upgrade, and uWebSockets.js 20.51 can close a socket upgraded asynchronously right after `open`
 * (uNetworking/uWebSockets#1928, fixed upstream in #1929, not in the release we can install).
 * Verifying synchronously keeps every upgrade synchronous. jose still fetches and caches the JWKS
 * (see auth.ts); keys are turned into KeyObjects once.
 */
import { constants, createHmac, createPublicKey, timingSafeEqual, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

export type JwtClaims = Record<string, unknown> & { sub?: string; iss?: string; aud?: string | string[]; exp?: number; nbf?: number };

export class JwtError extends Error {
  constructor(
    message: string,
    readonly reason: 'malformed' | 'algorithm' | 'unknown_key' | 'signature' | 'expired' | 'claims',
  ) {
    super(message);
    this.name = 'JwtError';
  }
}

export const HMAC_ALGORITHMS = ['HS256'] as const;
export const PUBLIC_KEY_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** Tokens longer than this are refused unread. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

export interface JwtKeys {
  readonly hmacSecret: Uint8Array;
  /** A public key for `alg` and `kid`, or null when none is known. */
  publicKey(alg: string, kid: string | undefined): KeyObject | null;
}

export interface ClaimChecks {
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
  /** Allowed clock skew for exp/nbf, seconds. */
  readonly clockToleranceSec: number;
}

const SEGMENT = /^[A-Za-z0-9_-]*$/;
const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
const CURVE: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

function decodeJson(segment: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  throw new JwtError(`Token ${what} is not a JSON object`, 'malformed');
}

/** Verifies signature and time/issuer/audience claims; returns the claims. Throws JwtError. */
export function verifyJwt(token: string, keys: JwtKeys, checks: ClaimChecks, nowSec = Date.now() / 1000): JwtClaims {
  if (token.length > MAX_TOKEN_LENGTH) throw new JwtError('Token is too long', 'malformed');
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) throw new JwtError('Token is not a compact JWS', 'malformed');
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJson(h, 'header');
  const alg = header['alg'];
  if (typeof alg !== 'string') throw new JwtError('Token header has no alg', 'malformed');
  if (header['crit'] !== undefined) throw new JwtError('Token uses unsupported critical header parameters', 'malformed');
  const kid = typeof header['kid'] === 'string' ? header['kid'] : undefined;
  const signingInput = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s, 'base64url');

  let valid: boolean;
  if ((HMAC_ALGORITHMS as readonly string[]).includes(alg)) {
    const expected = createHmac(HASH[alg.slice(2)] as string, keys.hmacSecret).update(signingInput).digest();
    valid = expected.length === signature.length && timingSafeEqual(expected, signature);
  } else if ((PUBLIC_KEY_ALGORITHMS as readonly string[]).includes(alg)) {
    const key = keys.publicKey(alg, kid);
    if (key === null) throw new JwtError(`No known key for ${alg}${kid ? ` kid "${kid}"` : ''}`, 'unknown_key');
    valid = verifyWithKey(alg, key, signingInput, signature);
  } else {
    throw new JwtError(`Token algorithm ${alg} is not accepted`, 'algorithm');
  }
  if (!valid) throw new JwtError('Token signature is invalid', 'signature');

  const claims = decodeJson(p, 'payload') as JwtClaims;
  const tolerance = checks.clockToleranceSec;
  if (claims.exp !== undefined && (typeof claims.exp !== 'number' || nowSec >= claims.exp + tolerance)) {
    throw new JwtError('Token has expired', 'expired');
  }
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || nowSec < claims.nbf - tolerance)) {
    throw new JwtError('Token is not valid yet', 'claims');
  }
  if (checks.issuer !== undefined && claims.iss !== checks.issuer) throw new JwtError('Token issuer is not accepted', 'claims');
  if (checks.audience !== undefined) {
    const aud = claims.aud;
    const ok = typeof aud === 'string' ? aud === checks.audience : Array.isArray(aud) && aud.includes(checks.audience);
    if (!ok) throw new JwtError('Token audience is not accepted', 'claims');
  }
  return claims;
}

/** Whether `key` may verify `alg` (key type, curve, RSA size), as RFC 7518 requires. */
export function keyFitsAlgorithm(alg: string, key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  if (alg.startsWith('RS') || alg.startsWith('PS')) {
    return (type === 'rsa' || (type === 'rsa-pss' && alg.startsWith('PS'))) && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
  }
  if (alg.startsWith('ES')) return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVE[alg];
  if (alg === 'EdDSA') return type === 'ed25519' || type === 'ed448';
  return false;
}

function verifyWithKey(alg: string, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  if (!keyFitsAlgorithm(alg, key)) return false;
  try {
    if (alg === 'EdDSA') return verify(null, data, key, signature);
    const hash = HASH[alg.slice(2)] as string;
    if (alg.startsWith('PS')) {
      return verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
    }
    if (alg.startsWith('ES')) return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    return verify(hash, data, key, signature);
  } catch {
    // A malformed signature for this key type is simply not a valid signature.
    return false;
  }
}

/** Builds a kid -> KeyObject index from a JWK set, skipping keys that are not public signing keys. */
export function indexJwks(jwks: { keys: ReadonlyArray<Record<string, unknown>> } | undefined): Array<{ kid: string | undefined; alg: string | undefined; key: KeyObject }> {
  const out: Array<{ kid: string | undefined; alg: string | undefined; key: KeyObject }> = [];
  for (const jwk of jwks?.keys ?? []) {
    if (jwk['use'] !== undefined && jwk['use'] !== 'sig') continue;
    if ('d' in jwk) continue; // never accept private key material as a verification key
    try {
      const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      out.push({ kid: typeof jwk['kid'] === 'string' ? jwk['kid'] : undefined, alg: typeof jwk['alg'] === 'string' ? jwk['alg'] : undefined, key });
    } catch {
      // Unsupported or malformed key: it cannot verify anything, leave it out.
    }
  }
  return out;
}
