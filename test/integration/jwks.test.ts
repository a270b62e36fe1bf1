/**
 * The key set against a real JWKS endpoint (node:http on 127.0.0.1:0), through the authenticator the
 * upgrade calls: kid selection, an unknown kid triggering a refetch, rotation, an outage at start,
 * and keys imported once per key-set change. Fetches are awaited through `settled()`, never slept for.
 */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import { HubError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { startJwksServer, type JwksServer } from '../fixtures/jwks-server.js';

const ISS = 'https://idp.test';
const AUD = 'hub';
const SECRET = 'jwks-test-secret-jwks-test-secret-0123';

interface Key {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function makeKey(kid: string, alg = 'ES256'): Promise<Key> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, use: 'sig' } };
}

/** `kid: null` leaves the kid out. */
const token = (key: Key, alg = 'ES256', kid: string | null = key.kid) =>
  new SignJWT({ sub: 'u1', iss: ISS, aud: AUD })
    .setProtectedHeader({ alg, ...(kid !== null ? { kid } : {}) })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key.privateKey);

const servers: JwksServer[] = [];
const closers: Array<() => void> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(keys: Key[], cooldown: { cooldownMs?: number } = { cooldownMs: 0 }) {
  const server = await startJwksServer(keys.map((k) => k.jwk));
  servers.push(server);
  // Cooldown 0 by default: a test rotates keys right after the first fetch; production waits 30 s.
  const { authenticator, keySet } = createAuthenticator({ jwtSecret: SECRET, jwksUrl: server.url, jwtIssuer: ISS, jwtAudience: AUD }, silentLogger, () => false, cooldown);
  closers.push(() => authenticator.close());
  if (keySet === null) throw new Error('no key set');
  return { server, authenticator, keySet };
}

/** An unsigned stand-in naming `kid`: enough to make the key set look the kid up. */
const withKid = (kid: string) => `${Buffer.from(JSON.stringify({ alg: 'ES256', kid })).toString('base64url')}.e30.AAAA`;

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof HubError) return err.message;
    throw err;
  }
  return 'accepted';
}

describe('JWKS key set', () => {
  it('picks the key by kid among several', async () => {
    const a = await makeKey('a');
    const b = await makeKey('b');
    const { authenticator } = await setup([a, b]);
    await authenticator.start();
    expect(authenticator.verify(await token(a)).user_id).toBe('u1');
    expect(authenticator.verify(await token(b)).user_id).toBe('u1');
    const bUnderA = await token(b, 'ES256', 'a');
    expect(refusal(() => authenticator.verify(bUnderA))).toBe('Token signature is invalid');
    // Two ES256 keys and no kid: ambiguous, refused.
    const noKid = await token(a, 'ES256', null);
    expect(refusal(() => authenticator.verify(noKid))).toBe('No known key for ES256');
  });

  it('an unknown kid triggers a background refetch, after which the new key works', async () => {
    const a = await makeKey('a');
    const b = await makeKey('b');
    const { server, authenticator, keySet } = await setup([a]);
    await authenticator.start();
    expect(server.requests).toBe(1);
    server.setKeys([a.jwk, b.jwk]);
    const tb = await token(b);
    expect(refusal(() => authenticator.verify(tb))).toBe('No known key for ES256 kid "b"');
    await keySet.settled();
    expect(server.requests).toBe(2);
    expect(authenticator.verify(tb).user_id).toBe('u1');
    expect(authenticator.verify(await token(a)).user_id).toBe('u1');
  });

  it('with the production cooldown, unknown kids trigger no refetch right after a fetch, even while the provider is down', async () => {
    const a = await makeKey('a');
    const { server, authenticator, keySet } = await setup([a], {});
    server.fail(503);
    await authenticator.start();
    for (let i = 0; i < 20; i++) expect(refusal(() => authenticator.verify(withKid(`k${i}`)))).toBe(`No known key for ES256 kid "k${i}"`);
    await keySet.settled();
    expect(server.requests).toBe(1);
  });

  it('follows a key rotation: the retired key stops working, the new one starts', async () => {
    const old = await makeKey('2025');
    const next = await makeKey('2026', 'RS256');
    const { server, authenticator, keySet } = await setup([old]);
    await authenticator.start();
    const tOld = await token(old);
    expect(authenticator.verify(tOld).user_id).toBe('u1');
    server.setKeys([next.jwk]);
    const tNext = await token(next, 'RS256');
    expect(refusal(() => authenticator.verify(tNext))).toBe('No known key for RS256 kid "2026"');
    await keySet.settled();
    expect(authenticator.verify(tNext).user_id).toBe('u1');
    expect(refusal(() => authenticator.verify(tOld))).toBe('No known key for ES256 kid "2025"');
  });

  it('with the JWKS down at start, tokens are refused, and accepted once it is back', async () => {
    const a = await makeKey('a');
    const { server, authenticator, keySet } = await setup([a]);
    server.fail(503);
    await authenticator.start();
    const ta = await token(a);
    expect(refusal(() => authenticator.verify(ta))).toBe('No known key for ES256 kid "a"');
    await keySet.settled();
    server.setKeys([a.jwk]);
    expect(refusal(() => authenticator.verify(ta))).toBe('No known key for ES256 kid "a"');
    await keySet.settled();
    expect(authenticator.verify(ta).user_id).toBe('u1');
    expect(server.requests).toBe(3);
  });

  it('checks HS256 with the hub secret only, whatever kid it names: a public key as HMAC secret gets nowhere', async () => {
    const a = await makeKey('a', 'RS256');
    const { authenticator } = await setup([a]);
    await authenticator.start();
    const { createPublicKey } = await import('node:crypto');
    const pem = createPublicKey({ key: a.jwk as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    const hs = (secret: string) =>
      new SignJWT({ sub: 'u1', iss: ISS, aud: AUD }).setProtectedHeader({ alg: 'HS256', kid: 'a' }).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(secret));
    // Refused by the hub secret's signature check: the JWKS key was never consulted.
    for (const secret of [pem, JSON.stringify(a.jwk)]) {
      const forged = await hs(secret);
      expect(refusal(() => authenticator.verify(forged))).toBe('Token signature is invalid');
    }
    // The same header with the hub secret is a hub token (the kid does not steer it to the JWKS);
    // the provider's issuer is not the hub's own, so strip it.
    const own = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'HS256', kid: 'a' }).setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
    expect(authenticator.verify(own).user_id).toBe('u1');
  });

  it('imports the keys once per key-set change, not per token nor per unchanged refetch', async () => {
    const a = await makeKey('a');
    const { server, authenticator, keySet } = await setup([a]);
    await authenticator.start();
    const imported = keySet.entries();
    const ta = await token(a);
    for (let i = 0; i < 50; i++) authenticator.verify(ta);
    expect(keySet.entries()).toBe(imported);
    // An unknown kid refetches the same set: nothing is re-imported.
    expect(refusal(() => authenticator.verify(withKid('zz')))).toBe('No known key for ES256 kid "zz"');
    await keySet.settled();
    expect(server.requests).toBe(2);
    expect(keySet.entries()).toBe(imported);
    const b = await makeKey('b');
    server.setKeys([a.jwk, b.jwk]);
    expect(refusal(() => authenticator.verify(withKid('b')))).toBe('No known key for ES256 kid "b"');
    await keySet.settled();
    expect(keySet.entries()).not.toBe(imported);
    expect(keySet.entries().map((e) => e.kid)).toEqual(['a', 'b']);
  });
});
