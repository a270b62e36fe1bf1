/**
 * jwt.ts: every check on its own, each with a token that only that check refuses (so deleting the
 * check makes its test fail). Tokens come from jose, or are forged by hand where jose refuses.
 */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretVerifier, indexJwks, JwtError, readHeader, selectKey, verifyWithEntry, type ClaimRules, type PublicKeyEntry } from '../../src/auth/jwt.js';
import { forge, nowSec } from '../fixtures/jws.js';

const SECRET = 'unit-test-secret-unit-test-secret-0123';
const secretBytes = new TextEncoder().encode(SECRET);
const external: ClaimRules = { issuer: 'https://idp.test', requireIssuer: true, audience: 'hub', requireAudience: true, requireExp: true, clockToleranceSec: 5 };
const hub: ClaimRules = { issuer: 'walker-hub', audience: 'hub', clockToleranceSec: 5 };
const good = () => ({ sub: 'u1', iss: 'https://idp.test', aud: 'hub', iat: nowSec(), exp: nowSec() + 300 });

/** The external path as the authenticator runs it: header, key choice, key verifier. */
function verifyExternal(token: string, entries: readonly PublicKeyEntry[]) {
  const { alg, kid } = readHeader(token);
  const entry = selectKey(entries, alg, kid);
  if (entry === null) throw new JwtError('no key', 'unknown_key');
  return verifyWithEntry(entry, alg, token);
}

const ext = (token: string, entries: readonly PublicKeyEntry[]) => outcome(() => verifyExternal(token, entries));

/** The refusal reason and message, or 'accepted'. */
function outcome(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof JwtError) return `${err.reason}: ${err.message}`;
    throw err;
  }
  return 'accepted';
}

const jwkOf = (key: KeyObject, extra: Record<string, unknown> = {}) => ({ ...(key.export({ format: 'jwk' }) as JWK), ...extra });

async function keyPair(alg: string, kid: string, jwkExtra: Record<string, unknown> = {}) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, ...jwkExtra };
  return { privateKey, jwk, entries: indexJwks({ keys: [jwk] }, external) };
}

const sign = (alg: string, key: CryptoKey | Uint8Array, claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  new SignJWT(claims).setProtectedHeader({ alg, ...header }).sign(key);

describe('the header', () => {
  it('refuses algorithms off the allowlist and alg none before any key is chosen', async () => {
    // HS512 with the right secret: fast-jwt would verify it if the allowlist let it through.
    const hs512 = await sign('HS512', secretBytes, { sub: 'u1' });
    expect(outcome(() => readHeader(hs512))).toBe('algorithm: Token algorithm HS512 is not accepted');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"u1"}').toString('base64url')}.`;
    expect(outcome(() => readHeader(none))).toBe('algorithm: Token algorithm none is not accepted');
    expect(readHeader(await sign('HS256', secretBytes, { sub: 'u1' }))).toEqual({ alg: 'HS256', kid: undefined });
  });

  it('refuses crit before the signature is looked at', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const entries = indexJwks({ keys: [jwkOf(ec.publicKey, { kid: 'k1' })] }, external);
    const token = forge({ alg: 'ES256', kid: 'k1', crit: ['x'], x: 1 }, good(), ec.privateKey);
    // A signature forged over nothing: only the header check can give this reason.
    const badSig = token.slice(0, token.lastIndexOf('.') + 1) + 'AAAA';
    expect(ext(badSig, entries)).toBe('malformed: Token uses unsupported critical header parameters (crit)');
    expect(ext(token, entries)).toMatch(/^malformed: Token (uses unsupported critical|crit header)/);
    expect(ext(forge({ alg: 'ES256', kid: 'k1' }, good(), ec.privateKey), entries)).toBe('accepted');
  });

  it('refuses malformed tokens', () => {
    for (const token of ['', 'abc', 'a.b', 'a.b.c.d', '!!.??.##', `${Buffer.from('[1]').toString('base64url')}.e30.x`, 'x'.repeat(20_000)]) {
      expect(outcome(() => readHeader(token))).toMatch(/^malformed: /);
    }
  });
});

describe('keys', () => {
  it.each(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'])('accepts %s from the JWKS, refuses it tampered', async (alg) => {
    const { privateKey, entries } = await keyPair(alg, 'k1', { alg, use: 'sig' });
    const token = await sign(alg, privateKey, good(), { kid: 'k1' });
    expect(verifyExternal(token, entries).sub).toBe('u1');
    const tampered = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(outcome(() => verifyExternal(tampered, entries))).toBe('signature: Token signature is invalid');
  });

  it('refuses a key of the wrong type for the algorithm', async () => {
    const rsa = await keyPair('RS256', 'r1');
    const ec = await generateKeyPair('ES256');
    // An ES256 token naming the RSA key: the key-type check refuses it before fast-jwt sees it.
    const token = await sign('ES256', ec.privateKey, good(), { kid: 'r1' });
    expect(outcome(() => verifyExternal(token, rsa.entries))).toBe('key: Token algorithm ES256 does not fit key "r1"');
    const ed = generateKeyPairSync('ed25519');
    const edToken = forge({ alg: 'EdDSA', kid: 'r1' }, good(), ed.privateKey);
    expect(ext(edToken, rsa.entries)).toBe('key: Token algorithm EdDSA does not fit key "r1"');
    const edEntries = indexJwks({ keys: [jwkOf(ed.publicKey, { kid: 'd1' })] }, external);
    expect(ext(forge({ alg: 'ES256', kid: 'd1' }, good(), generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey), edEntries)).toBe('key: Token algorithm ES256 does not fit key "d1"');
  });

  it('refuses RSA keys under 2048 bits, even with a valid signature', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const entries = indexJwks({ keys: [jwkOf(small.publicKey, { kid: 'small' })] }, external);
    const token = forge({ alg: 'RS256', kid: 'small' }, good(), small.privateKey);
    expect(outcome(() => verifyExternal(token, entries))).toBe('key: Token algorithm RS256 does not fit key "small"');
    const big = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ok = indexJwks({ keys: [jwkOf(big.publicKey, { kid: 'big' })] }, external);
    expect(verifyExternal(forge({ alg: 'RS256', kid: 'big' }, good(), big.privateKey), ok).sub).toBe('u1');
  });

  it('refuses an EC key on another curve, even with a valid signature (secp256k1 for ES256)', () => {
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const entries = indexJwks({ keys: [jwkOf(k1.publicKey, { kid: 'k1' })] }, external);
    const token = forge({ alg: 'ES256', kid: 'k1' }, good(), k1.privateKey);
    expect(outcome(() => verifyExternal(token, entries))).toBe('key: Token algorithm ES256 does not fit key "k1"');
  });

  it('uses a key only for its JWK alg when it names one', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const entries = indexJwks({ keys: [jwkOf(rsa.publicKey, { kid: 'r1', alg: 'RS256' })] }, external);
    expect(ext(forge({ alg: 'PS256', kid: 'r1' }, good(), rsa.privateKey), entries)).toBe('key: Token algorithm PS256 does not match key "r1" (RS256)');
    expect(ext(forge({ alg: 'RS256', kid: 'r1' }, good(), rsa.privateKey), entries)).toBe('accepted');
  });

  it('selects by kid; without a kid only a single fitting key is used', async () => {
    const a = await keyPair('ES256', 'a');
    const b = await keyPair('ES256', 'b');
    const entries = [...a.entries, ...b.entries];
    expect(verifyExternal(await sign('ES256', b.privateKey, good(), { kid: 'b' }), entries).sub).toBe('u1');
    // b's signature under a's kid fails: the kid picks the key, it is not a hint.
    const bAsA = await sign('ES256', b.privateKey, good(), { kid: 'a' });
    expect(outcome(() => verifyExternal(bAsA, entries))).toBe('signature: Token signature is invalid');
    const noKid = await sign('ES256', a.privateKey, good());
    expect(outcome(() => verifyExternal(noKid, entries))).toBe('unknown_key: no key');
    expect(verifyExternal(noKid, a.entries).sub).toBe('u1');
    expect(ext(await sign('ES256', a.privateKey, good(), { kid: 'zzz' }), entries)).toBe('unknown_key: no key');
  });

  it('never indexes private keys or encryption keys', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const priv = { ...(await exportJWK(privateKey)), kid: 'p' };
    const enc = { ...(await exportJWK(publicKey)), kid: 'e', use: 'enc' };
    const bad = { kty: 'EC', crv: 'P-256', kid: 'broken', x: 'AA', y: 'AA' };
    const oct = { kty: 'oct', k: 'c2VjcmV0', kid: 'oct' };
    expect(indexJwks({ keys: [priv, enc, bad, oct, 'x', null] }, external).map((k) => k.kid)).toEqual([]);
  });
});

describe('claims', () => {
  it('checks exp with the clock tolerance, and requires it on external tokens', async () => {
    const { privateKey, entries } = await keyPair('ES256', 'k1');
    const at = (claims: Record<string, unknown>) => sign('ES256', privateKey, { ...good(), ...claims }, { kid: 'k1' });
    expect(ext(await at({ exp: nowSec() - 10 }), entries)).toBe('expired: Token has expired');
    expect(ext(await at({ exp: nowSec() - 2 }), entries)).toBe('accepted');
    expect(ext(await at({ exp: 'never' }), entries)).toBe('claims: Token exp claim is not accepted');
    const { exp: _exp, ...noExp } = good();
    expect(ext(await sign('ES256', privateKey, noExp, { kid: 'k1' }), entries)).toBe('claims: Token lacks a required claim (exp)');
  });

  it('checks nbf and iat with the clock tolerance; iat in the future is refused', async () => {
    const { privateKey, entries } = await keyPair('ES256', 'k1');
    const at = (claims: Record<string, unknown>) => sign('ES256', privateKey, { ...good(), ...claims }, { kid: 'k1' });
    expect(ext(await at({ nbf: nowSec() + 60 }), entries)).toBe('claims: Token is not valid yet');
    expect(ext(await at({ nbf: nowSec() + 2 }), entries)).toBe('accepted');
    expect(ext(await at({ iat: nowSec() + 60 }), entries)).toBe('claims: Token was issued in the future (iat)');
    expect(ext(await at({ iat: nowSec() + 2 }), entries)).toBe('accepted');
    expect(ext(await at({ iat: 'yesterday' }), entries)).toBe('claims: Token iat claim must be a number');
    const hubVerify = createSecretVerifier(SECRET, hub);
    expect(outcome(() => hubVerify(forge({ alg: 'HS256' }, { sub: 'u1', iat: nowSec() + 60 }, SECRET)))).toBe('claims: Token was issued in the future (iat)');
  });

  it('requires the configured iss and aud on external tokens', async () => {
    const { privateKey, entries } = await keyPair('ES256', 'k1');
    const at = (claims: Record<string, unknown>) => sign('ES256', privateKey, { ...good(), ...claims }, { kid: 'k1' });
    expect(ext(await at({ aud: ['x', 'hub'] }), entries)).toBe('accepted');
    expect(ext(await at({ iss: 'https://evil.test' }), entries)).toBe('claims: Token iss claim is not accepted');
    expect(ext(await at({ aud: 'other' }), entries)).toBe('claims: Token aud claim is not accepted');
    expect(ext(await at({ iss: undefined }), entries)).toBe('claims: Token lacks a required claim (iss)');
    expect(ext(await at({ aud: undefined }), entries)).toBe('claims: Token lacks a required claim (aud)');
  });

  it('hub-secret tokens: iss absent or the hub own, aud absent or the configured one, exp optional', () => {
    const verify = createSecretVerifier(SECRET, hub);
    const tok = (claims: Record<string, unknown>, secret = SECRET) => forge({ alg: 'HS256' }, { sub: 'u1', ...claims }, secret);
    expect(outcome(() => verify(tok({})))).toBe('accepted');
    expect(outcome(() => verify(tok({ iss: 'walker-hub', aud: 'hub', exp: nowSec() + 60 })))).toBe('accepted');
    expect(outcome(() => verify(tok({ iss: 'https://idp.test' })))).toBe('claims: Token iss claim is not accepted');
    expect(outcome(() => verify(tok({ aud: 'other' })))).toBe('claims: Token aud claim is not accepted');
    expect(outcome(() => verify(tok({ exp: nowSec() - 10 })))).toBe('expired: Token has expired');
    expect(outcome(() => verify(tok({}, 'x'.repeat(40))))).toBe('signature: Token signature is invalid');
    expect(outcome(() => verify(tok({}).split('.').slice(0, 2).join('.') + '.'))).toBe('signature: Token signature is invalid');
  });
});
