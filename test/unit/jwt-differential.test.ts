/**
 * Differential test: the hub's verifier (the authenticator, on a real JWKS endpoint) against
 * jose.jwtVerify as the oracle, configured alike (algorithms, issuer, audience, 5 s tolerance,
 * required exp/iss/aud/sub), over generated tokens: valid ones and every way of breaking them.
 * The hub must accept exactly what jose accepts. Where the hub is deliberately stricter (iat in the
 * future, RSA under 2048 bits, an EC key on the wrong curve) the cases are generated apart and the
 * hub must refuse them. Time offsets stay far from the tolerance edges, so no case depends on timing.
 */
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator, type Authenticator } from '../../src/auth/authenticator.js';
import type { KeySet } from '../../src/auth/jwks.js';
import { PUBLIC_KEY_ALGORITHMS } from '../../src/auth/jwt.js';
import { HubError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { forge, nowSec } from '../fixtures/jws.js';
import { prng, type Rng } from '../prng.js';
import { startJwksServer, type JwksServer } from '../fixtures/jwks-server.js';

const ISS = 'https://idp.test';
const AUD = 'walker-hub';
const SECRET = 'differential-secret-differential-secret';
const COUNT = 240;

interface SigningKey {
  kid: string;
  algs: string[];
  privateKey: KeyObject;
  jwk: JWK;
}

function makeKey(kid: string, type: 'rsa' | 'ec' | 'ed25519', opts: { curve?: string; bits?: number; algs: string[]; jwkAlg?: string }): SigningKey {
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: opts.bits ?? 2048 })
      : type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: opts.curve as string })
        : generateKeyPairSync('ed25519');
  const jwk = { ...(pair.publicKey.export({ format: 'jwk' }) as JWK), kid, use: 'sig', ...(opts.jwkAlg ? { alg: opts.jwkAlg } : {}) };
  return { kid, algs: opts.algs, privateKey: pair.privateKey, jwk };
}

const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
let jwks: JwksServer;
let hub: Authenticator;
let keySet: KeySet;
let keys: SigningKey[];
let strangers: SigningKey[];
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

beforeAll(async () => {
  keys = [
    makeKey('rsa', 'rsa', { algs: RSA_ALGS }),
    makeKey('rsa-rs256', 'rsa', { algs: ['RS256'], jwkAlg: 'RS256' }),
    makeKey('p256', 'ec', { curve: 'prime256v1', algs: ['ES256'] }),
    makeKey('p384', 'ec', { curve: 'secp384r1', algs: ['ES384'] }),
    makeKey('p521', 'ec', { curve: 'secp521r1', algs: ['ES512'] }),
    makeKey('ed', 'ed25519', { algs: ['EdDSA'] }),
  ];
  strangers = [makeKey('rsa', 'rsa', { algs: RSA_ALGS }), makeKey('p256', 'ec', { curve: 'prime256v1', algs: ['ES256'] }), makeKey('ed', 'ed25519', { algs: ['EdDSA'] })];
  jwks = await startJwksServer(keys.map((k) => k.jwk));
  // Cooldown 0 so the stricter-cases test can add keys right after the first fetch.
  const created = createAuthenticator({ jwtSecret: SECRET, jwksUrl: jwks.url, jwtIssuer: ISS, jwtAudience: AUD }, silentLogger, () => false, { cooldownMs: 0 });
  hub = created.authenticator;
  if (created.keySet === null) throw new Error('no key set');
  keySet = created.keySet;
  await hub.start();
});

afterAll(async () => {
  hub.close();
  await jwks.close();
});

const joseSet = () => createLocalJWKSet({ keys: keys.map((k) => k.jwk) });
const joseOptions = { algorithms: [...PUBLIC_KEY_ALGORITHMS], issuer: ISS, audience: AUD, clockTolerance: 5, requiredClaims: ['exp', 'iss', 'aud', 'sub'] };

async function joseAccepts(token: string): Promise<boolean> {
  try {
    await jwtVerify(token, joseSet(), joseOptions);
    return true;
  } catch (err) {
    if (err instanceof Error) return false;
    throw err;
  }
}

function hubAccepts(token: string): boolean {
  try {
    hub.verify(token);
    return true;
  } catch (err) {
    // Anything but a clean invalid_token (a crash, a TypeError) fails the test.
    if (err instanceof HubError && err.code === 'invalid_token') return false;
    throw err;
  }
}

const MUTATIONS = [
  'valid', 'valid-aud-array', 'valid-no-kid', 'tampered-signature', 'tampered-payload', 'tampered-header-alg', 'tampered-header-kid',
  'wrong-alg-family', 'alg-none', 'hs256-with-public-key', 'hs512', 'wrong-key', 'expired', 'not-yet-valid', 'wrong-iss', 'wrong-aud',
  'aud-array-without', 'missing-exp', 'missing-iss', 'missing-aud', 'missing-sub', 'crit', 'kid-unknown', 'kid-other-key', 'exp-string',
  'signature-empty', 'signature-der',
] as const;
type Mutation = (typeof MUTATIONS)[number];

function generate(rand: Rng, mutation: Mutation): string {
  const key = rand.pick(keys);
  const alg = rand.pick(key.algs);
  const now = nowSec();
  const claims: Record<string, unknown> = { sub: `user-${rand.int(1000)}`, iss: ISS, aud: AUD, iat: now - rand.int(600), exp: now + 60 + rand.int(3600) };
  const header: Record<string, unknown> = { alg, kid: key.kid, typ: 'JWT' };
  let signer: KeyObject | string = key.privateKey;
  switch (mutation) {
    case 'valid':
      break;
    case 'valid-aud-array':
      claims['aud'] = ['other', AUD];
      break;
    case 'valid-no-kid':
      delete header['kid'];
      break;
    case 'wrong-alg-family': {
      const other = rand.pick(keys.filter((k) => k !== key));
      header['alg'] = rand.pick(other.algs);
      signer = other.privateKey;
      break;
    }
    case 'alg-none':
      return `${b64({ alg: 'none', kid: key.kid })}.${b64(claims)}.`;
    case 'hs256-with-public-key':
      header['alg'] = 'HS256';
      signer = rand.int(2) === 0 ? publicPem(key) : JSON.stringify(key.jwk);
      break;
    case 'hs512':
      header['alg'] = 'HS512';
      signer = SECRET;
      break;
    case 'wrong-key':
      signer = (strangers.find((s) => s.algs.includes(alg)) ?? strangers[0])!.privateKey;
      if (!strangers.some((s) => s.algs.includes(alg))) header['alg'] = 'RS256';
      break;
    case 'expired':
      claims['exp'] = now - 60 - rand.int(3600);
      break;
    case 'not-yet-valid':
      claims['nbf'] = now + 60 + rand.int(3600);
      break;
    case 'wrong-iss':
      claims['iss'] = rand.pick(['https://evil.test', 'https://idp.test/', 'HTTPS://IDP.TEST', '']);
      break;
    case 'wrong-aud':
      claims['aud'] = rand.pick(['other', 'walker-hub ', 'WALKER-HUB', '']);
      break;
    case 'aud-array-without':
      claims['aud'] = ['a', 'b'];
      break;
    case 'missing-exp':
      delete claims['exp'];
      break;
    case 'missing-iss':
      delete claims['iss'];
      break;
    case 'missing-aud':
      delete claims['aud'];
      break;
    case 'missing-sub':
      delete claims['sub'];
      break;
    case 'crit':
      header['crit'] = ['x-ext'];
      header['x-ext'] = true;
      break;
    case 'kid-unknown':
      header['kid'] = `unknown-${rand.int(100)}`;
      break;
    case 'kid-other-key':
      header['kid'] = rand.pick(keys.filter((k) => k !== key)).kid;
      break;
    case 'exp-string':
      claims['exp'] = String(claims['exp']);
      break;
    default:
      break;
  }
  const token = forge(header, claims, signer);
  const [h, p, s] = token.split('.') as [string, string, string];
  switch (mutation) {
    case 'tampered-signature': {
      const i = rand.int(Math.max(1, s.length - 4));
      return `${h}.${p}.${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
    }
    case 'tampered-payload':
      return `${h}.${b64({ ...claims, sub: 'admin' })}.${s}`;
    case 'tampered-header-alg':
      return `${b64({ ...header, alg: rand.pick(key.algs.length > 1 ? key.algs.filter((a) => a !== alg) : PUBLIC_KEY_ALGORITHMS.filter((a) => a !== alg)) })}.${p}.${s}`;
    case 'tampered-header-kid':
      return `${b64({ ...header, kid: rand.pick(keys.filter((k) => k !== key)).kid })}.${p}.${s}`;
    case 'signature-empty':
      return `${h}.${p}.`;
    case 'signature-der':
      return `${h}.${p}.${Buffer.concat([Buffer.from([0x30, 0x44]), Buffer.from(s, 'base64url')]).toString('base64url')}`;
    default:
      return token;
  }
}

/** The key's public half as SPKI PEM: what an attacker would use as an HMAC secret. */
const publicPem = (key: SigningKey) => createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' }).toString();

describe('hub verifier vs jose.jwtVerify', () => {
  it(`accepts exactly what jose accepts over ${COUNT} generated tokens`, async () => {
    const rand = prng(20261201);
    const disagreements: string[] = [];
    const byMutation = new Map<Mutation, { total: number; accepted: number }>();
    let accepted = 0;
    for (let i = 0; i < COUNT; i++) {
      const mutation = MUTATIONS[i % MUTATIONS.length] as Mutation;
      const token = generate(rand, mutation);
      const [expected, actual] = [await joseAccepts(token), hubAccepts(token)];
      if (expected !== actual) disagreements.push(`#${i} ${mutation}: jose ${expected ? 'accepts' : 'refuses'}, hub ${actual ? 'accepts' : 'refuses'}: ${token}`);
      if (actual) accepted++;
      const row = byMutation.get(mutation) ?? { total: 0, accepted: 0 };
      row.total++;
      if (actual) row.accepted++;
      byMutation.set(mutation, row);
    }
    console.log(`differential: ${COUNT} tokens, ${accepted} accepted by both, ${COUNT - accepted - disagreements.length} refused by both, ${disagreements.length} disagreements`);
    console.log(`  accepted/total by case: ${[...byMutation].map(([m, r]) => `${m} ${r.accepted}/${r.total}`).join(', ')}`);
    expect(disagreements).toEqual([]);
    // The generator must really produce both outcomes: valid cases accepted, broken ones refused.
    expect(byMutation.get('valid')).toEqual({ total: expect.any(Number), accepted: byMutation.get('valid')?.total });
    expect(accepted).toBeGreaterThan(20);
    expect(COUNT - accepted).toBeGreaterThan(150);
  });

  it('refuses what it is deliberately stricter about than jose: iat in the future, RSA < 2048 bits, EC on the wrong curve', async () => {
    const now = nowSec();
    const good = { sub: 'u1', iss: ISS, aud: AUD, exp: now + 3600 };
    const rand = prng(7);
    let refused = 0;
    const futureIat: string[] = [];
    for (let i = 0; i < 20; i++) {
      const key = rand.pick(keys);
      futureIat.push(forge({ alg: rand.pick(key.algs), kid: key.kid }, { ...good, iat: now + 60 + rand.int(3600) }, key.privateKey));
    }
    // jose (with no maxTokenAge) accepts these: the hub alone refuses them.
    for (const token of futureIat) {
      expect(await joseAccepts(token)).toBe(true);
      expect(hubAccepts(token)).toBe(false);
      refused++;
    }
    const small = makeKey('small', 'rsa', { bits: 1024, algs: ['RS256'] });
    const k1 = makeKey('k1', 'ec', { curve: 'secp256k1', algs: ['ES256'] });
    jwks.setKeys([...keys.map((k) => k.jwk), small.jwk, k1.jwk]);
    // A token naming an unknown kid makes the hub refetch; wait for the new set.
    hubAccepts(forge({ alg: 'RS256', kid: 'small' }, good, small.privateKey));
    await keySet.settled();
    expect(keySet.entries().map((e) => e.kid)).toContain('small');
    for (const token of [forge({ alg: 'RS256', kid: 'small' }, good, small.privateKey), forge({ alg: 'ES256', kid: 'k1' }, good, k1.privateKey), forge({ alg: 'ES256' }, good, k1.privateKey)]) {
      expect(hubAccepts(token)).toBe(false);
      refused++;
    }
    console.log(`stricter than jose: ${refused} tokens, all refused by the hub`);
  });
});
