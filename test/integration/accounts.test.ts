/** Accounts over real HTTP and WebSocket, on the embedded store. */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { defineWalker, z } from '../../src/index.js';
import { SignJWT } from 'jose';
import { closeClients, connect, EXAMPLE_WALKERS, post, signToken, startHub, stopAll, tempDir, TEST_SECRET, TestClient, walkersFrom, wsUrl } from '../helpers.js';
import { loadWalkers } from '../../src/walkers/loader.js';
import type { RunningHub } from '../../src/node.js';
import { ManualClock } from '../manual-clock.js';

afterEach(closeClients);
afterAll(stopAll);

const PUBLIC_ROOT = 'n::000000000000000000000001';
let seq = 0;
const email = () => `User${++seq}.${Date.now()}@Example.com`;

async function register(hub: RunningHub, address = email(), password = 'correct horse') {
  const res = await post(hub, '/user/register', { email: address, password });
  expect(res.status).toBe(201);
  return { address, password, user: (res.body as { user: { id: string; email: string; root_id: string } }).user };
}

async function login(hub: RunningHub, address: string, password: string) {
  const res = await post(hub, '/user/login', { email: address, password });
  expect(res.status).toBe(200);
  return res.body as { token: string; user: { id: string; email: string; root_id: string } };
}

/** Resolves with the HTTP status an upgrade attempt gets (101 when it succeeds). */
function upgradeStatus(hub: RunningHub, token: string): Promise<number> {
  return TestClient.connect(wsUrl(hub), { headers: { Authorization: `Bearer ${token}` } }).then(
    async (c) => {
      await c.close();
      return 101;
    },
    (err: Error) => Number(/upgrade refused: (\d+)/.exec(err.message)?.[1] ?? 0),
  );
}

describe('register', () => {
  it('creates a user with a jac-cloud style root id and never returns the password', async () => {
    const hub = await startHub();
    const { user, address } = await register(hub);
    expect(user).toEqual({ id: expect.any(String), email: address.toLowerCase(), root_id: expect.stringMatching(/^n::[0-9a-f]{24}$/) });
    const stored = await hub.store.findUserByEmail(address);
    expect(stored?.password_hash).toMatch(/^scrypt\$10\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(JSON.stringify(user)).not.toContain('correct horse');
  });

  it('answers 409 for a taken email, whatever its case or spacing', async () => {
    const hub = await startHub();
    const { address } = await register(hub);
    const again = await post(hub, '/user/register', { email: `  ${address.toUpperCase()} `, password: 'another one' });
    expect(again).toMatchObject({ status: 409, body: { status: 409, error: { code: 'email_taken' } } });
  });

  it('answers 422 for an invalid email or a short password, listing the issues', async () => {
    const hub = await startHub();
    const bad = await post(hub, '/user/register', { email: 'not-an-email', password: 'short' });
    expect(bad.status).toBe(422);
    const issues = (bad.body as { error: { issues: Array<{ path: string }> } }).error.issues.map((i) => i.path).sort();
    expect(issues).toEqual(['email', 'password']);
    expect((await post(hub, '/user/register', undefined, { raw: 'email=a', headers: { 'Content-Type': 'text/plain' } })).status).toBe(415);
  });
});

describe('login', () => {
  it('returns a token that authenticates WebSocket and REST as that user', async () => {
    const hub = await startHub();
    const { address, password, user } = await register(hub);
    const session = await login(hub, address.toUpperCase(), password);
    expect(session.user).toEqual(user);
    const ws = await connect(hub, { token: session.token });
    expect(ws.info.root_id).toBe(user.root_id);
    const res = await post(hub, '/walker/send_chat_to_user', { root_id: user.root_id, message: 'hi me' }, { token: session.token });
    expect(res.status).toBe(200);
    expect(await ws.next('chat')).toEqual({ type: 'chat', data: { message: 'hi me' } });
  });

  it('gives the same 400 for a wrong password and an unknown email', async () => {
    const hub = await startHub();
    const { address } = await register(hub);
    const wrong = await post(hub, '/user/login', { email: address, password: 'wrong password' });
    const unknown = await post(hub, '/user/login', { email: 'nobody@example.com', password: 'whatever1' });
    const malformed = await post(hub, '/user/login', { email: 'nope', password: 'x' });
    for (const res of [wrong, unknown, malformed]) {
      expect(res).toEqual({ status: 400, headers: expect.anything(), body: { status: 400, error: { code: 'invalid_credentials', message: 'Invalid email or password' } } });
    }
  });
});

describe('logout', () => {
  it('revokes that token everywhere and downgrades the sockets using it, leaving other tokens alone', async () => {
    const hub = await startHub();
    const { address, password, user } = await register(hub);
    const first = await login(hub, address, password);
    const second = await login(hub, address, password);
    const a = await connect(hub, { token: first.token });
    const b = await connect(hub, { token: second.token });

    expect(await post(hub, '/user/logout', undefined, { token: first.token })).toMatchObject({ status: 200, body: { revoked: 'token' } });
    expect(await a.next('connection')).toMatchObject({ data: { root_id: PUBLIC_ROOT, client_id: a.info.client_id } });
    await b.sync();
    expect(b.pending('connection')).toEqual([]);

    expect((await post(hub, '/walker/send_chat_to_user', { root_id: user.root_id }, { token: first.token })).body).toMatchObject({ error: { code: 'invalid_token', message: 'Token has been revoked' } });
    expect(await upgradeStatus(hub, first.token)).toBe(401);
    expect(await a.request({ type: 'change_user', token: first.token })).toMatchObject({ type: 'error', error: { code: 'invalid_token' } });
    expect(await upgradeStatus(hub, second.token)).toBe(101);
    expect((await post(hub, '/user/logout', undefined, { token: first.token })).status).toBe(401);
  });

  it('?all=true revokes every token of the user, and a new login works again', async () => {
    const hub = await startHub();
    const { address, password } = await register(hub);
    const other = await register(hub);
    const tokens = [await login(hub, address, password), await login(hub, address, password)].map((s) => s.token);
    const otherToken = (await login(hub, other.address, other.password)).token;
    const sockets = await Promise.all(tokens.map((token) => connect(hub, { token })));
    const bystander = await connect(hub, { token: otherToken });

    expect(await post(hub, '/user/logout?all=true', undefined, { token: tokens[0] as string })).toMatchObject({ status: 200, body: { revoked: 'all' } });
    for (const s of sockets) expect(await s.next('connection')).toMatchObject({ data: { root_id: PUBLIC_ROOT } });
    await bystander.sync();
    expect(bystander.pending('connection')).toEqual([]);
    for (const token of tokens) expect(await upgradeStatus(hub, token)).toBe(401);

    const fresh = await login(hub, address, password);
    expect(await upgradeStatus(hub, fresh.token)).toBe(101);
  });

  it('a token without exp stays revoked for good (the revocation never lapses in the store)', async () => {
    const dataDir = tempDir();
    const hub = await startHub({ dataDir });
    const forever = await new SignJWT({ root_id: 'n::00000000000000000000abcd' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('backend-user')
      .setJti('no-exp-token')
      .setIssuedAt()
      .sign(new TextEncoder().encode(TEST_SECRET));
    expect(await upgradeStatus(hub, forever)).toBe(101);
    expect(await post(hub, '/user/logout', undefined, { token: forever })).toMatchObject({ status: 200, body: { revoked: 'token' } });
    expect(await upgradeStatus(hub, forever)).toBe(401);
    // Still in force a century from now, by the store's own expiry filter.
    const century = Date.now() + 100 * 366 * 24 * 3600 * 1000;
    expect((await hub.store.revocationsSince(0, century)).tokens.map((t) => t.jti)).toEqual(['no-exp-token']);
    await hub.close();
    const again = await startHub({ dataDir });
    expect(await upgradeStatus(again, forever)).toBe(401);
  });

  it('needs a valid Bearer token', async () => {
    const hub = await startHub();
    expect(await post(hub, '/user/logout')).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(await post(hub, '/user/logout', undefined, { token: 'garbage' })).toMatchObject({ status: 401, body: { error: { code: 'invalid_token' } } });
  });
});

describe('expiry', () => {
  /** A token's `exp`, in ms. */
  const expiryOf = (token: string) => Number((JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { exp: number }).exp) * 1000;

  it('downgrades a socket to public, with a connection frame, when its token expires', async () => {
    const clock = new ManualClock();
    const hub = await startHub({}, { clock });
    // Valid for an hour by the real clock (checked at connect); the hub's clock is driven below.
    const { token, rootId } = await signToken({}, { expiresIn: '1h' });
    const expiresAt = expiryOf(token);
    const ws = await connect(hub, { token });
    expect(ws.info.root_id).toBe(rootId);

    clock.advance(expiresAt - clock.now() - 1000);
    await ws.sync();
    expect(ws.pending('connection')).toEqual([]);
    expect(hub.hub.registry.clientsOfUser(rootId)?.size).toBe(1);

    clock.advance(1000);
    expect(await ws.next('connection')).toMatchObject({ data: { root_id: PUBLIC_ROOT, client_id: ws.info.client_id } });
    expect(hub.hub.registry.clientsOfUser(rootId)).toBeUndefined();
    expect(hub.hub.counts().users).toBe(1);
  });

  it('keeps a token that outlives one timer (~24.8 days) until its expiry, then downgrades', async () => {
    const clock = new ManualClock();
    const hub = await startHub({}, { clock });
    const { token, rootId } = await signToken({}, { expiresIn: '40d' });
    const expiresAt = expiryOf(token);
    const ws = await connect(hub, { token });
    clock.advance(2 ** 31 - 1);
    await ws.sync();
    expect(ws.pending('connection')).toEqual([]);
    expect(clock.timers).toBe(1);
    clock.advance(expiresAt - clock.now());
    expect(await ws.next('connection')).toMatchObject({ data: { root_id: PUBLIC_ROOT } });
    expect(hub.hub.registry.clientsOfUser(rootId)).toBeUndefined();
    expect(clock.timers).toBe(0);
  });

  it('issues tokens that expire after the configured lifetime', async () => {
    const hub = await startHub({ tokenTtlSec: 3600 });
    const { address, password } = await register(hub);
    const { token } = await login(hub, address, password);
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, number | string>;
    expect(Number(claims['exp']) - Number(claims['iat'])).toBe(3600);
    expect(claims['jti']).toEqual(expect.any(String));
  });
});

describe('walker user and data', () => {
  const history = defineWalker({
    input: z.object({ say: z.string().optional() }),
    methods: ['websocket', 'post'],
    async run(ctx, { say }) {
      if (say !== undefined) await ctx.data.put(`msg:${String(Date.now()).padStart(15, '0')}:${say}`, { say, by: ctx.user?.email });
      return { user: ctx.user && { id: ctx.user.id, email: ctx.user.email, root_id: ctx.user.root_id }, history: await ctx.data.list({ prefix: 'msg:' }) };
    },
  });
  const open = defineWalker({ input: z.object({}), auth: false, methods: ['post'], run: (ctx) => ctx.data.get('x') });

  it('sees the calling user and keeps per-root data that survives a restart', async () => {
    const walkers = new Map([...(await loadWalkers(EXAMPLE_WALKERS)), ...walkersFrom({ history, open })]);
    const dataDir = tempDir();
    const hub = await startHub({ dataDir }, { walkers });
    const alice = await register(hub);
    const bob = await register(hub);
    const aliceToken = (await login(hub, alice.address, alice.password)).token;
    const bobToken = (await login(hub, bob.address, bob.password)).token;
    await post(hub, '/walker/history', { say: 'one' }, { token: aliceToken });
    const res = await post(hub, '/walker/history', { say: 'two' }, { token: aliceToken });
    const report = (res.body as { reports: Array<{ user: unknown; history: Array<{ value: { say: string } }> }> }).reports[0];
    expect(report?.user).toEqual({ id: alice.user.id, email: alice.address.toLowerCase(), root_id: alice.user.root_id });
    expect(report?.history.map((e) => e.value.say)).toEqual(['one', 'two']);
    const bobs = await post(hub, '/walker/history', {}, { token: bobToken });
    expect((bobs.body as { reports: Array<{ history: unknown[] }> }).reports[0]?.history).toEqual([]);
    expect(await post(hub, '/walker/open', {})).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });

    // Restart on the same data folder: accounts and walker data are still there.
    await hub.close();
    const again = await startHub({ dataDir }, { walkers });
    const relogin = await login(again, alice.address, alice.password);
    const after = await post(again, '/walker/history', {}, { token: relogin.token });
    expect((after.body as { reports: Array<{ history: Array<{ value: { say: string } }> }> }).reports[0]?.history.map((e) => e.value.say)).toEqual(['one', 'two']);
  });
});
