/**
 * An external identity provider over a real JWKS endpoint, against real hubs over real sockets:
 * which tokens get in (upgrade and REST), and which root and email they get.
 */
import { createHash } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defineWalker, z } from '../../src/index.js';
import type { RunningHub } from '../../src/node.js';
import { loadWalkers } from '../../src/walkers/loader.js';
import { startJwksServer, type JwksServer } from '../fixtures/jwks-server.js';
import { closeClients, connect, EXAMPLE_WALKERS, post, refusedUpgrade, signToken, startHub, stopAll, walkersFrom } from '../helpers.js';

afterEach(closeClients);

const ISS = 'https://idp.test';
const AUD = 'walker-hub-test';
const KID = 'idp-key-1';
const invalidToken = { status: 401, body: { status: 401, error: { code: 'invalid_token', message: expect.any(String) } } };
const derivedRoot = (iss: string, sub: string) => 'n::' + createHash('sha256').update(`${iss}\u0000${sub}`).digest('hex').slice(0, 24);

const whoami = defineWalker({
  input: z.object({}),
  methods: ['post'],
  run: (ctx) => ctx.user && { id: ctx.user.id, root_id: ctx.user.root_id, email: ctx.user.email },
});

let idp: JwksServer;
let privateKey: CryptoKey;
let publicJwk: JWK;
let hub: RunningHub;
let trusting: RunningHub;

/** Signs an RS256 token as the identity provider: its iss and aud, an hour to live, unless overridden. */
function idpToken(claims: JWTPayload, opts: { key?: CryptoKey; kid?: string; exp?: number | null } = {}): Promise<string> {
  const jwt = new SignJWT({ iss: ISS, aud: AUD, iat: Math.floor(Date.now() / 1000), ...claims }).setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? KID });
  if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? '1h');
  return jwt.sign(opts.key ?? privateKey);
}

async function rest(target: RunningHub, token: string) {
  const res = await post(target, '/walker/whoami', {}, { token });
  return { status: res.status, body: res.body };
}

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = await exportJWK(pair.publicKey);
  idp = await startJwksServer([{ ...publicJwk, kid: KID, alg: 'RS256', use: 'sig' }]);
  const walkers = new Map([...(await loadWalkers(EXAMPLE_WALKERS)), ...walkersFrom({ whoami })]);
  hub = await startHub({ jwksUrl: idp.url, jwtIssuer: ISS, jwtAudience: AUD }, { walkers });
  trusting = await startHub({ jwksUrl: idp.url, jwtIssuer: ISS, jwtAudience: AUD, jwtTrustClaims: 'true' }, { walkers });
});

afterAll(async () => {
  await stopAll();
  await idp.close();
});

describe('identity-provider tokens', () => {
  it('accepts an RS256 token from the JWKS over the upgrade and over REST', async () => {
    const token = await idpToken({ sub: 'idp-user' });
    const a = await connect(hub, { token });
    expect(a.info.root_id).toBe(derivedRoot(ISS, 'idp-user'));
    const res = await post(hub, '/walker/send_chat_to_user', { root_id: a.info.root_id, message: 'jwks' }, { token });
    expect(res).toMatchObject({ status: 200, body: { status: 200, reports: [] } });
    expect(await a.next('chat')).toEqual({ type: 'chat', data: { message: 'jwks' } });
  });

  it.each<[string, JWTPayload, { exp?: null }]>([
    ['no iss', { iss: undefined }, {}],
    ['no aud', { aud: undefined }, {}],
    ['another issuer', { iss: 'https://evil.test' }, {}],
    ['another audience', { aud: 'other-app' }, {}],
    ['no exp', {}, { exp: null }],
    ['iat in the future', { iat: Math.floor(Date.now() / 1000) + 3600 }, {}],
    ['no sub (a jac-cloud id is not a provider subject)', { sub: undefined, id: 'idp-user' }, {}],
  ])('refuses a token with %s (upgrade and REST)', async (_name, claims, opts) => {
    const token = await idpToken({ sub: 'idp-user', ...claims }, opts);
    expect(await refusedUpgrade(hub, { token })).toEqual(invalidToken);
    expect(await rest(hub, token)).toEqual(invalidToken);
  });

  it('refuses RS256 tokens signed by another key, under a known or an unknown kid', async () => {
    const stranger = (await generateKeyPair('RS256')).privateKey;
    for (const kid of [KID, 'unknown-kid']) {
      const token = await idpToken({ sub: 'idp-user' }, { key: stranger, kid });
      expect(await refusedUpgrade(hub, { token })).toEqual(invalidToken);
      expect(await rest(hub, token)).toEqual(invalidToken);
    }
  });

  it('refuses HS256 tokens whose HMAC secret is the provider public key (PEM or JWK JSON)', async () => {
    const { createPublicKey } = await import('node:crypto');
    const pem = createPublicKey({ key: publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    for (const secret of [pem, JSON.stringify(publicJwk)]) {
      const token = await new SignJWT({ sub: 'mallory', iss: ISS, aud: AUD })
        .setProtectedHeader({ alg: 'HS256', kid: KID })
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(secret));
      expect(await refusedUpgrade(hub, { token })).toEqual(invalidToken);
      expect(await rest(hub, token)).toEqual(invalidToken);
    }
  });

  it('by default ignores the provider root_id and email: the root is derived from iss + sub', async () => {
    const token = await idpToken({ sub: 'eve', root_id: 'n::0123456789abcdef01234567', email: 'admin@example.com' });
    expect((await connect(hub, { token })).info.root_id).toBe(derivedRoot(ISS, 'eve'));
    expect(await rest(hub, token)).toEqual({ status: 200, body: { status: 200, reports: [{ id: 'eve', root_id: derivedRoot(ISS, 'eve'), email: null }] } });
  });

  it('with --jwt-trust-claims takes root_id and email from the provider token', async () => {
    const token = await idpToken({ sub: 'eve', root_id: 'n::0123456789abcdef01234567', email: 'eve@example.com' });
    expect((await connect(trusting, { token })).info.root_id).toBe('n::0123456789abcdef01234567');
    expect(await rest(trusting, token)).toEqual({ status: 200, body: { status: 200, reports: [{ id: 'eve', root_id: 'n::0123456789abcdef01234567', email: 'eve@example.com' }] } });
    // Without root_id the derived root still applies.
    expect((await connect(trusting, { token: await idpToken({ sub: 'eve' }) })).info.root_id).toBe(derivedRoot(ISS, 'eve'));
  });
});

describe('tokens signed with the hub secret, with --jwt-issuer/--jwt-audience set', () => {
  it('hub-issued tokens carry the hub iss and the aud, and verify over the upgrade and REST', async () => {
    const address = `idp-${Date.now()}@example.com`;
    expect((await post(hub, '/user/register', { email: address, password: 'correct horse' })).status).toBe(201);
    const login = (await post(hub, '/user/login', { email: address, password: 'correct horse' })).body as { token: string; user: { id: string; root_id: string } };
    const claims = JSON.parse(Buffer.from(login.token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: 'walker-hub', aud: AUD, sub: login.user.id });
    expect((await connect(hub, { token: login.token })).info.root_id).toBe(login.user.root_id);
    expect(await rest(hub, login.token)).toEqual({ status: 200, body: { status: 200, reports: [{ id: login.user.id, root_id: login.user.root_id, email: address }] } });
  });

  it('trusted-backend tokens (no iss, jac-cloud style) keep working with their root_id', async () => {
    const { token, rootId, userId } = await signToken({ email: 'backend@example.com' });
    expect((await connect(hub, { token })).info.root_id).toBe(rootId);
    expect(await rest(hub, token)).toEqual({ status: 200, body: { status: 200, reports: [{ id: userId, root_id: rootId, email: 'backend@example.com' }] } });
  });

  it('refuses hub-secret tokens naming another issuer (even the provider) or another audience', async () => {
    for (const claims of [{ iss: ISS }, { iss: 'https://evil.test' }, { aud: 'other-app' }]) {
      const { token } = await signToken(claims);
      expect(await refusedUpgrade(hub, { token })).toEqual(invalidToken);
      expect(await rest(hub, token)).toEqual(invalidToken);
    }
    expect((await connect(hub, { token: (await signToken({ iss: 'walker-hub', aud: [AUD, 'x'] })).token })).info.root_id).toMatch(/^n::/);
  });
});

describe('JWKS down at start', () => {
  it('the hub starts, refuses provider tokens with 401 and still accepts hub-secret tokens', async () => {
    const down = await startJwksServer();
    down.fail(503);
    try {
      const lonely = await startHub({ jwksUrl: down.url, jwtIssuer: ISS, jwtAudience: AUD });
      expect(down.requests).toBeGreaterThanOrEqual(1);
      const token = await idpToken({ sub: 'idp-user' });
      expect(await refusedUpgrade(lonely, { token })).toEqual(invalidToken);
      const { token: own, rootId } = await signToken();
      expect((await connect(lonely, { token: own })).info.root_id).toBe(rootId);
      await lonely.close();
    } finally {
      await down.close();
    }
  });
});
