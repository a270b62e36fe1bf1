/**
 * Synchronous JWS/JWT verification on fast-jwt, plus the checks fast-jwt does not make.
 *
 * Why synchronous: uWebSockets.js 20.51 can close a socket upgraded asynchronously right after
 * `open` (uNetworking/uWebSockets#1928, not fixed in the release we can install), and token checks
 * run inside the upgrade. fast-jwt verifies synchronously when its verifier is built with a key
 * string/PEM (a key *function* would make it async), so every verifier here is built once, for one
 * key, and reused: one for the hub secret, one per JWKS key (jwks.ts).
 *
 * Checked here, before fast-jwt, on the header alone: size, compact form, `alg` on the allowlist
 * (so `none` and HS384/512 never reach a verifier), no `crit`, and that the chosen key fits the
 * algorithm (type, EC curve, RSA size >= 2048 bits: fast-jwt maps secp256k1 to ES256 and accepts
 * any RSA size). Checked after fast-jwt: `iat` is a number and not in the future.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createVerifier, TokenError, type Algorithm } from 'fast-jwt';

export type JwtClaims = Record<string, unknown> & { sub?: string; iss?: string; aud?: string | string[]; exp?: number; nbf?: number; iat?: number };

export class JwtError extends Error {
  constructor(
    message: string,
    readonly reason: 'malformed' | 'algorithm' | 'unknown_key' | 'key' | 'signature' | 'expired' | 'claims',
  ) {
    super(message);
    this.name = 'JwtError';
  }
}

export const HMAC_ALGORITHMS = ['HS256'] as const;
export const PUBLIC_KEY_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** Tokens longer than this are refused unread. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** Smallest RSA modulus accepted, bits (RFC 7518 §3.3). */
export const MIN_RSA_BITS = 2048;

/** Claim rules one verifier applies. */
export interface ClaimRules {
  /** `iss`, when present, must be one of these; with `requireIssuer`, it must be present. */
  readonly issuer?: string | undefined;
  readonly requireIssuer?: boolean;
  /** `aud`, when present, must contain this; with `requireAudience`, it must be present. */
  readonly audience?: string | undefined;
  readonly requireAudience?: boolean;
  readonly requireExp?: boolean;
  /** Allowed clock skew for exp, nbf and iat, seconds. */
  readonly clockToleranceSec: number;
}

/** A token's verified claims, or a thrown JwtError. Built once per key; synchronous. */
export type KeyVerifier = (token: string) => JwtClaims;

/** A public key from a JWKS, with the verifier built for it (null when it fits no accepted algorithm). */
export interface PublicKeyEntry {
  readonly kid: string | undefined;
  /** The JWK's own `alg`, if it names one: the key is then used for that algorithm only. */
  readonly alg: string | undefined;
  readonly key: KeyObject;
  readonly verify: KeyVerifier | null;
}

export interface TokenHeader {
  readonly alg: string;
  readonly kid: string | undefined;
}

const SEGMENT = /^[A-Za-z0-9_-]*$/;
const CURVE: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** Reads and checks the header: compact form, `alg` on the allowlist, no `crit`. Throws JwtError. */
export function readHeader(token: string): TokenHeader {
  if (token.length > MAX_TOKEN_LENGTH) throw new JwtError('Token is too long', 'malformed');
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) throw new JwtError('Token is not a compact JWS', 'malformed');
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(parts[0] as string, 'base64url').toString('utf8'));
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new JwtError('Token header is not a JSON object', 'malformed');
  const h = header as Record<string, unknown>;
  const alg = h['alg'];
  if (typeof alg !== 'string') throw new JwtError('Token header has no alg', 'malformed');
  if (!isAccepted(alg)) throw new JwtError(`Token algorithm ${alg.slice(0, 16)} is not accepted`, 'algorithm');
  // No extension is understood, so any critical one must be refused (RFC 7515 §4.1.11).
  if (h['crit'] !== undefined) throw new JwtError('Token uses unsupported critical header parameters (crit)', 'malformed');
  return { alg, kid: typeof h['kid'] === 'string' ? h['kid'] : undefined };
}

function isAccepted(alg: string): boolean {
  return (HMAC_ALGORITHMS as readonly string[]).includes(alg) || (PUBLIC_KEY_ALGORITHMS as readonly string[]).includes(alg);
}

/** Whether `key` may verify `alg` (key type, curve, RSA size), as RFC 7518 requires. */
export function keyFitsAlgorithm(alg: string, key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  if (alg.startsWith('RS') || alg.startsWith('PS')) {
    return (type === 'rsa' || (type === 'rsa-pss' && alg.startsWith('PS'))) && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS;
  }
  if (alg.startsWith('ES')) return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVE[alg];
  if (alg === 'EdDSA') return type === 'ed25519' || type === 'ed448';
  return false;
}

/** The verifier for tokens signed with the hub's own HS256 secret. */
export function createSecretVerifier(secret: string, rules: ClaimRules): KeyVerifier {
  return wrap(createVerifier({ key: secret, algorithms: [...HMAC_ALGORITHMS], ...fastJwtRules(rules) }), rules);
}

/** The verifier for one public key, for the accepted algorithms it fits (and its JWK `alg`, if set). */
export function createPublicKeyVerifier(key: KeyObject, jwkAlg: string | undefined, rules: ClaimRules): KeyVerifier | null {
  const algorithms = PUBLIC_KEY_ALGORITHMS.filter((a) => keyFitsAlgorithm(a, key) && (jwkAlg === undefined || jwkAlg === a));
  if (algorithms.length === 0) return null;
  let pem: string;
  try {
    pem = key.export({ type: 'spki', format: 'pem' }).toString();
    return wrap(createVerifier({ key: pem, algorithms: algorithms as Algorithm[], ...fastJwtRules(rules) }), rules);
  } catch (err) {
    // fast-jwt refuses key kinds it cannot use (e.g. rsa-pss SPKI): such a key verifies nothing.
    if (err instanceof TokenError || err instanceof TypeError) return null;
    throw err;
  }
}

function fastJwtRules(rules: ClaimRules) {
  // fast-jwt skips an allowedIss/allowedAud check when the claim is absent: requiredClaims makes it present.
  const required = [...(rules.requireExp ? ['exp'] : []), ...(rules.requireIssuer ? ['iss'] : []), ...(rules.requireAudience ? ['aud'] : [])];
  return {
    clockTolerance: rules.clockToleranceSec * 1000,
    ...(rules.issuer !== undefined ? { allowedIss: rules.issuer } : {}),
    ...(rules.audience !== undefined ? { allowedAud: rules.audience } : {}),
    requiredClaims: required,
  };
}

function wrap(verify: (token: string) => unknown, rules: ClaimRules): KeyVerifier {
  return (token) => {
    let claims: JwtClaims;
    try {
      claims = verify(token) as JwtClaims;
    } catch (err) {
      throw fromFastJwt(err);
    }
    // fast-jwt only reads iat for maxAge; a token from the future is refused like an early nbf.
    if ('iat' in claims) {
      if (typeof claims.iat !== 'number' || !Number.isFinite(claims.iat)) throw new JwtError('Token iat claim must be a number', 'claims');
      if (claims.iat * 1000 > Date.now() + rules.clockToleranceSec * 1000) throw new JwtError('Token was issued in the future (iat)', 'claims');
    }
    return claims;
  };
}

/** Maps a fast-jwt error to a JwtError with a message of our own (never fast-jwt's internals). */
function fromFastJwt(err: unknown): JwtError {
  if (!(err instanceof TokenError)) {
    // Anything else thrown while verifying is a token we cannot check: refuse it, do not crash.
    return new JwtError('Token could not be verified', 'signature');
  }
  const c = TokenError.codes;
  switch (err.code) {
    case c.malformed:
    case c.invalidPayload:
    case c.invalidType:
      return new JwtError('Token is not a valid JWT', 'malformed');
    case c.invalidAlgorithm:
      return new JwtError('Token algorithm is not accepted for this key', 'algorithm');
    case c.invalidSignature:
    case c.missingSignature:
    case c.verifyError:
      return new JwtError('Token signature is invalid', 'signature');
    case c.expired:
      return new JwtError('Token has expired', 'expired');
    case c.inactive:
      return new JwtError('Token is not valid yet', 'claims');
    case c.missingRequiredClaim:
      return new JwtError(`Token lacks a required claim (${requiredClaimName(err.message)})`, 'claims');
    case c.invalidClaimType:
    case c.invalidClaimValue:
      return new JwtError(`Token ${claimName(err.message)} claim is not accepted`, 'claims');
    case c.invalidCritHeader:
      return new JwtError('Token crit header is not accepted', 'malformed');
    default:
      return new JwtError('Token could not be verified', 'signature');
  }
}

/** fast-jwt names the claim as "The <claim> claim ..."; only registered names are echoed back. */
function claimName(message: string): string {
  const name = /^(?:The|None of) (\w+) claim/.exec(message)?.[1];
  return name !== undefined && ['exp', 'nbf', 'iat', 'iss', 'aud', 'sub', 'jti'].includes(name) ? name : 'a';
}

const requiredClaimName = (message: string): string => {
  const name = claimName(message);
  return name === 'a' ? 'claim' : name;
};

/** Builds the key entries of a JWK set, skipping keys that are not public signing keys. */
export function indexJwks(jwks: { keys?: unknown } | undefined, rules: ClaimRules): PublicKeyEntry[] {
  const out: PublicKeyEntry[] = [];
  const keys = Array.isArray(jwks?.keys) ? (jwks.keys as unknown[]) : [];
  for (const item of keys) {
    if (typeof item !== 'object' || item === null) continue;
    const jwk = item as Record<string, unknown>;
    if (jwk['use'] !== undefined && jwk['use'] !== 'sig') continue;
    if ('d' in jwk) continue; // never accept private key material as a verification key
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } catch (err) {
      // Unsupported or malformed key (node reports these as TypeError/Error): it verifies nothing.
      if (err instanceof Error) continue;
      throw err;
    }
    const alg = typeof jwk['alg'] === 'string' ? jwk['alg'] : undefined;
    out.push({ kid: typeof jwk['kid'] === 'string' ? jwk['kid'] : undefined, alg, key, verify: createPublicKeyVerifier(key, alg, rules) });
  }
  return out;
}

/** Chooses the key for a token: by `kid`, or without one only when exactly one key fits `alg`. */
export function selectKey(entries: readonly PublicKeyEntry[], alg: string, kid: string | undefined): PublicKeyEntry | null {
  if (kid !== undefined) return entries.find((e) => e.kid === kid) ?? null;
  const fitting = entries.filter((e) => (e.alg === undefined || e.alg === alg) && keyFitsAlgorithm(alg, e.key));
  return fitting.length === 1 ? (fitting[0] as PublicKeyEntry) : null;
}

/** Verifies a token with a chosen public key: the key must fit the algorithm and its JWK `alg`. */
export function verifyWithEntry(entry: PublicKeyEntry, alg: string, token: string): JwtClaims {
  const name = entry.kid !== undefined ? `key "${entry.kid.slice(0, 64)}"` : 'the key';
  if (entry.alg !== undefined && entry.alg !== alg) throw new JwtError(`Token algorithm ${alg} does not match ${name} (${entry.alg})`, 'key');
  if (!keyFitsAlgorithm(alg, entry.key) || entry.verify === null) throw new JwtError(`Token algorithm ${alg} does not fit ${name}`, 'key');
  return entry.verify(token);
}
