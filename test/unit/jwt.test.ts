/** jwt.ts against tokens signed by jose: every accepted algorithm, and the ways a token must fail. */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { indexJwks, JwtError, verifyJwt, type JwtKeys } from '../../src/auth/jwt.js';

const secret = new TextEncoder().encode('unit-test-secret-unit-test-secret-0123');
const checks = { clockToleranceSec: 5 };

function keysFrom(jwks: JWK[]): JwtKeys {
  const index = indexJwks({ keys: jwks as Array<Record<string, unknown>> });
  return {
    hmacSecret: secret,
    publicKey: (alg, kid) => index.find((k) => (kid === undefined || k.kid === kid) && (k.alg === undefined || k.alg === alg))?.key ?? null,
  };
}

async function sign(alg: string, key: CryptoKey | KeyObject | Uint8Array, claims: Record<string, unknown> = {}, kid?: string) {
  return new SignJWT({ sub: 'u1', ...claims }).setProtectedHeader({ alg, ...(kid ? { kid } : {}) }).setIssuedAt().setExpirationTime('5m').sign(key);
}

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof JwtError) return err.reason;
    throw err;
  }
  return 'accepted';
}

describe('verifyJwt', () => {
  it('accepts HS256 and returns the claims', async () => {
    const token = await sign('HS256', secret, { root_id: 'n::abc' });
    expect(verifyJwt(token, keysFrom([]), checks)).toMatchObject({ sub: 'u1', root_id: 'n::abc' });
  });

  it.each(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'])('accepts %s with a key from the JWKS', async (alg) => {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg, use: 'sig' };
    const token = await sign(alg, privateKey, {}, 'k1');
    expect(verifyJwt(token, keysFrom([jwk]), checks).sub).toBe('u1');
    const tampered = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(reason(() => verifyJwt(tampered, keysFrom([jwk]), checks))).toBe('signature');
  });

  it('refuses the wrong secret, alg none, unknown algorithms and crit headers', async () => {
    const keys = keysFrom([]);
    const wrongSecret = await sign('HS256', new TextEncoder().encode('x'.repeat(40)));
    expect(reason(() => verifyJwt(wrongSecret, keys, checks))).toBe('signature');
    const none = `${b64({ alg: 'none' })}.${b64({ sub: 'u1' })}.`;
    expect(reason(() => verifyJwt(none, keys, checks))).toBe('algorithm');
    expect(reason(() => verifyJwt(`${b64({ alg: 'HS512' })}.${b64({ sub: 'u1' })}.AAAA`, keys, checks))).toBe('algorithm');
    const critToken = `${b64({ alg: 'HS256', crit: ['x'] })}.${b64({ sub: 'u1' })}.AAAA`;
    expect(reason(() => verifyJwt(critToken, keys, checks))).toBe('malformed');
  });

  it('refuses malformed tokens', () => {
    const keys = keysFrom([]);
    for (const token of ['', 'abc', 'a.b', 'a.b.c.d', '!!.??.##', `${b64([1])}.${b64({})}.x`, 'x'.repeat(20_000)]) {
      expect(reason(() => verifyJwt(token, keys, checks))).toBe('malformed');
    }
  });

  it('checks exp and nbf with the clock tolerance, and issuer and audience', async () => {
    const keys = keysFrom([]);
    const now = Math.floor(Date.now() / 1000);
    const at = async (claims: Record<string, unknown>) => new SignJWT({ sub: 'u1', ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(secret);
    const expired = await at({ exp: now - 10 });
    expect(reason(() => verifyJwt(expired, keys, checks))).toBe('expired');
    const withinTolerance = await at({ exp: now - 2 });
    expect(reason(() => verifyJwt(withinTolerance, keys, checks))).toBe('accepted');
    const badExp = await at({ exp: 'never' });
    expect(reason(() => verifyJwt(badExp, keys, checks))).toBe('expired');
    const early = await at({ nbf: now + 60 });
    expect(reason(() => verifyJwt(early, keys, checks))).toBe('claims');
    const scoped = { ...checks, issuer: 'https://idp', audience: 'hub' };
    expect(reason(() => verifyJwt(expired, keys, scoped))).toBe('expired');
    const good = await at({ iss: 'https://idp', aud: ['x', 'hub'] });
    const otherAudience = await at({ iss: 'https://idp', aud: 'other' });
    const otherIssuer = await at({ iss: 'https://evil', aud: 'hub' });
    expect(reason(() => verifyJwt(good, keys, scoped))).toBe('accepted');
    expect(reason(() => verifyJwt(otherAudience, keys, scoped))).toBe('claims');
    expect(reason(() => verifyJwt(otherIssuer, keys, scoped))).toBe('claims');
  });

  it('refuses keys that do not fit the algorithm, and unknown kids', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'ec' };
    // An ES256 key offered for an ES384 token, and an unknown kid.
    const es384 = await generateKeyPair('ES384');
    const wrongCurve = await sign('ES384', es384.privateKey, {}, 'ec');
    expect(reason(() => verifyJwt(wrongCurve, keysFrom([jwk]), checks))).toBe('signature');
    const unknownKid = await sign('ES256', privateKey, {}, 'nope');
    expect(reason(() => verifyJwt(unknownKid, keysFrom([jwk]), checks))).toBe('unknown_key');
    // RSA keys under 2048 bits are not accepted.
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const smallJwk = { ...(small.publicKey.export({ format: 'jwk' }) as JWK), kid: 'small' };
    const smallToken = `${b64({ alg: 'RS256', kid: 'small' })}.${b64({ sub: 'u1' })}.AAAA`;
    expect(reason(() => verifyJwt(smallToken, keysFrom([smallJwk]), checks))).toBe('signature');
  });

  it('never indexes private keys or encryption keys', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const priv = { ...(await exportJWK(privateKey)), kid: 'p' };
    const enc = { ...(await exportJWK(publicKey)), kid: 'e', use: 'enc' };
    const bad = { kty: 'EC', crv: 'P-256', kid: 'broken', x: 'AA', y: 'AA' };
    expect(indexJwks({ keys: [priv, enc, bad] as Array<Record<string, unknown>> }).map((k) => k.kid)).toEqual([]);
  });
});

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

