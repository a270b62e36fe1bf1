import { generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defineWalker, PUBLIC_ROOT_ID, z } from '../../src/index.js';
import type { RunningHub } from '../../src/node.js';
import { closeClients, connect, post, refusedUpgrade, signToken, startHub, stopAll, TEST_SECRET, walkersFrom, wsUrl, type TestClient } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

const DERIVED_ROOT = /^n::[0-9a-f]{24}$/;
const invalidToken = { status: 401, error: { code: 'invalid_token', message: expect.any(String) } };

/** Signs an HS256 token with exactly the given claims (no root_id added). */
async function hs256(claims: JWTPayload, secret = TEST_SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(secret));
}

async function rs256(claims: JWTPayload, key: CryptoKey, kid: string): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).setIssuedAt().setExpirationTime('1h').sign(key);
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Sends a `user` frame from `sender` and awaits its ack. */
async function sendToUser(sender: TestClient, rootId: string, data: unknown): Promise<void> {
  expect(await sender.request({ type: 'user', root_ids: [rootId], data })).toEqual({ type: 'ack', uid: expect.any(String) });
}

let hub: RunningHub;
beforeAll(async () => {
  hub = await startHub();
});

describe('token at the upgrade', () => {
  it('accepts Authorization: Bearer <jwt> and lowercase bearer', async () => {
    const { token, rootId } = await signToken();
    expect((await connect(hub, { token })).info.root_id).toBe(rootId);
    const lower = await connect(hub, { headers: { Authorization: `bearer ${token}` } });
    expect(lower.info.root_id).toBe(rootId);
  });

  it('accepts ?token=<jwt>, and the header wins over the query', async () => {
    const a = await signToken();
    const b = await signToken();
    expect((await connect(hub, { query: `?token=${encodeURIComponent(a.token)}` })).info.root_id).toBe(a.rootId);
    expect((await connect(hub, { query: `?token=${b.token}`, token: a.token })).info.root_id).toBe(a.rootId);
    expect(await refusedUpgrade(hub, { query: `?token=${b.token}`, authorization: 'Bearer garbage' })).toEqual({ status: 401, body: invalidToken });
  });

  const other = 'another-secret-that-is-at-least-32-characters';
  const badTokens: Array<[string, () => Promise<string>]> = [
    ['an expired token', async () => (await signToken({}, { expiresIn: -10 })).token],
    ['an exp in the past', async () => (await signToken({}, { expiresIn: Math.floor(Date.now() / 1000) - 60 })).token],
    ['a wrong secret', async () => (await signToken({}, { secret: other })).token],
    ['a garbage string', async () => 'not-a-jwt'],
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'mallory', root_id: 'n::0123456789abcdef01234567', exp: 4102444800 })}.`],
    ['the public root claim', async () => (await signToken({ root_id: PUBLIC_ROOT_ID })).token],
    ['no sub', async () => hs256({ root_id: 'n::aaaaaaaaaaaaaaaaaaaaaaaa' })],
    ['RS256 without a JWKS', async () => rs256({ sub: 'x' }, (await generateKeyPair('RS256')).privateKey, 'k')],
  ];

  it.each(badTokens)('refuses %s with 401 (header and ?token=), and change_user downgrades to public', async (_name, make) => {
    const bad = await make();
    expect(await refusedUpgrade(hub, { authorization: `Bearer ${bad}` })).toEqual({ status: 401, body: invalidToken });
    expect(await refusedUpgrade(hub, { query: `?token=${encodeURIComponent(bad)}` })).toEqual({ status: 401, body: invalidToken });
    expect(hub.hub.counts()).toEqual({ clients: 0, channels: 0, users: 0 });

    const { token } = await signToken();
    const a = await connect(hub, { token });
    a.send({ type: 'change_user', token: bad, uid: 'cu1' });
    expect(await a.next()).toEqual({ type: 'error', error: { code: 'invalid_token', message: expect.any(String) }, uid: 'cu1' });
    expect(await a.next()).toEqual({ type: 'connection', data: { ...a.info, root_id: PUBLIC_ROOT_ID }, uid: 'cu1' });
  });
});

describe('change_user', () => {
  it('public → token: new root, and user frames to that root reach it; users count follows', async () => {
    const b = await signToken();
    const sender = await connect(hub, { token: b.token });
    const a = await connect(hub);
    expect(hub.hub.counts()).toMatchObject({ clients: 2, users: 2 });

    const same = await signToken({ root_id: b.rootId });
    expect(await a.request({ type: 'change_user', token: same.token })).toEqual({ type: 'connection', data: { ...a.info, root_id: b.rootId }, uid: expect.any(String) });
    expect(hub.hub.counts()).toMatchObject({ clients: 2, users: 1 });

    const { token, rootId } = await signToken();
    expect(await a.request({ type: 'change_user', token })).toMatchObject({ type: 'connection', data: { client_id: a.info.client_id, root_id: rootId } });
    expect(hub.hub.counts()).toMatchObject({ clients: 2, users: 2 });
    await sendToUser(sender, rootId, { type: 'note', data: 'to the new root' });
    expect(await a.next('note')).toEqual({ type: 'note', data: 'to the new root' });
  });

  it('accepts the "Bearer <jwt>" prefix form', async () => {
    const a = await connect(hub);
    const { token, rootId } = await signToken();
    expect(await a.request({ type: 'change_user', token: `Bearer ${token}` })).toMatchObject({ type: 'connection', data: { root_id: rootId } });
  });

  it('token → no token: back to public, frames to the old root no longer arrive', async () => {
    const { token, rootId } = await signToken();
    const sender = await connect(hub, { token }); // stays on the old root
    const a = await connect(hub, { token });
    expect(hub.hub.counts()).toMatchObject({ clients: 2, users: 1 });
    expect(await a.request({ type: 'change_user' })).toEqual({ type: 'connection', data: { ...a.info, root_id: PUBLIC_ROOT_ID }, uid: expect.any(String) });
    expect(hub.hub.counts()).toMatchObject({ clients: 2, users: 2 });
    await sendToUser(sender, rootId, { type: 'note', data: 'old root' });
    expect(await sender.next('note')).toEqual({ type: 'note', data: 'old root' });
    await a.sync();
    expect(a.pending()).toEqual([]);

    expect(await a.request({ type: 'change_user', token })).toMatchObject({ data: { root_id: rootId } });
    expect(await a.request({ type: 'change_user', token: null })).toMatchObject({ type: 'connection', data: { root_id: PUBLIC_ROOT_ID } });
  });

  it('bad token: error then public connection frame, and the socket is public afterwards', async () => {
    const { token, rootId } = await signToken();
    const sender = await connect(hub, { token }); // stays on the old root
    const a = await connect(hub, { token });
    expect(hub.hub.counts()).toMatchObject({ clients: 2, users: 1 });
    a.send({ type: 'change_user', token: 'garbage', uid: 'bad1' });
    expect(await a.next()).toEqual({ type: 'error', error: { code: 'invalid_token', message: expect.any(String) }, uid: 'bad1' });
    expect(await a.next()).toEqual({ type: 'connection', data: { ...a.info, root_id: PUBLIC_ROOT_ID }, uid: 'bad1' });
    expect(await a.request({ type: 'client', client_ids: [sender.info.client_id], data: { x: 1 } })).toMatchObject({
      type: 'error',
      error: { code: 'forbidden' },
    });
    await sendToUser(sender, rootId, { type: 'note', data: 'old root' });
    expect(await sender.next('note')).toEqual({ type: 'note', data: 'old root' });
    await a.sync();
    await sender.sync();
    expect(a.pending()).toEqual([]);
    expect(sender.pending()).toEqual([]);
    expect(hub.hub.counts()).toMatchObject({ clients: 2, users: 2 });
  });
});

describe('derived root ids', () => {
  it('gives tokens without root_id a stable n::<24 hex> root per sub', async () => {
    const alice1 = await connect(hub, { token: await hs256({ sub: 'alice', n: 1 }) });
    const alice2 = await connect(hub, { token: await hs256({ sub: 'alice', n: 2 }) });
    const bob = await connect(hub, { token: await hs256({ sub: 'bob' }) });
    expect(alice1.info.root_id).toMatch(DERIVED_ROOT);
    expect(bob.info.root_id).toMatch(DERIVED_ROOT);
    expect(alice2.info.root_id).toBe(alice1.info.root_id);
    expect(bob.info.root_id).not.toBe(alice1.info.root_id);
    expect(alice1.info.root_id).not.toBe(PUBLIC_ROOT_ID);
  });
});

// Issuer, audience and JWKS (identity-provider) tokens: see auth-idp.test.ts.

describe('REST tokens', () => {
  it('a bad token is 401 invalid_token even on a walker without auth', async () => {
    const open = defineWalker({ auth: false, input: z.object({}), methods: ['post'], run: () => 'open' });
    const restHub = await startHub({}, { walkers: walkersFrom({ open_walker: open }) });
    expect(await post(restHub, '/walker/open_walker', {})).toMatchObject({ status: 200, body: { status: 200, reports: ['open'] } });
    const expired = (await signToken({}, { expiresIn: -10 })).token;
    for (const bad of ['garbage', expired]) {
      const res = await post(restHub, '/walker/open_walker', {}, { token: bad });
      expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: invalidToken });
    }
    const res = await post(hub, '/walker/send_chat_to_user', { root_id: 'n::1' }, { token: 'garbage' });
    expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: invalidToken });
  });
});

describe('hub secret', () => {
  it('uses a random secret when none is configured; TEST_SECRET tokens are refused', async () => {
    const randomHub = await startHub({ jwtSecret: undefined });
    expect(randomHub.jwtSecret.length).toBeGreaterThanOrEqual(43);
    expect(randomHub.jwtSecret).not.toBe(TEST_SECRET);
    const { token } = await signToken();
    expect(await refusedUpgrade(randomHub, { authorization: `Bearer ${token}` })).toEqual({ status: 401, body: invalidToken });
    const own = await signToken({}, { secret: randomHub.jwtSecret });
    expect((await connect(randomHub, { token: own.token })).info.root_id).toBe(own.rootId);
  });
});
