/**
 * The store deadline and the bounded shutdown against a MongoDB that stops answering: the test
 * starts a MongoDB of its own (so freezing it disturbs no other test file) and freezes it with
 * SIGSTOP, which keeps its sockets open and answers nothing (a hung server, not a refused one).
 * Without ../shared/services/mongodb-up it skips loudly, unless REQUIRE_SERVICES=1.
 *
 * The time bounds asserted here are what the deadlines promise (deadline + a margin), not speed.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineWalker, z } from '../../src/index.js';
import type { RunningHub } from '../../src/node.js';
import { announcedPort, HUB_BIN, killChildren, trackChild } from '../cli-process.js';
import { closeClients, connect, post, signToken, standaloneEnv, startHub, stopAll, tempDir, TEST_SECRET, TestClient, walkersFrom } from '../helpers.js';
import { MONGODB_UP, startOwnMongo, type OwnMongo } from '../mongodb-server.js';
import { freePort } from '../redis-server.js';

const ROOT = resolve(import.meta.dirname, '../..');
const REQUIRE_SERVICES = process.env['REQUIRE_SERVICES'] === '1';
/** The store deadline of the in-process hub, ms. */
const STORE_TIMEOUT_MS = 1000;
/** A deadline-bound answer may take this much longer than the deadline (scrypt, a loaded machine), ms. */
const MARGIN_MS = 2000;
/** The drain timeout of the spawned command, ms; it must exit within this + 2 s. */
const DRAIN_TIMEOUT_MS = 2000;

/** A walker that reads the caller's data: over WebSocket it says `reading` first, so a test knows the read is under way. */
const notes = defineWalker({
  input: z.object({}),
  methods: ['websocket', 'post'],
  async run(ctx) {
    ctx.self({ type: 'reading', data: {} });
    return { note: (await ctx.data.get('note')) ?? null };
  },
});

/** The same walker as a module for the spawned command. */
function notesWalkersDir(): string {
  const dir = tempDir('walkers-notes-');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  writeFileSync(
    join(dir, 'notes.js'),
    [
      "import { defineWalker, z } from 'walker-hub';",
      'export default defineWalker({',
      '  input: z.object({}),',
      "  methods: ['websocket', 'post'],",
      '  async run(ctx) {',
      "    ctx.self({ type: 'reading', data: {} });",
      "    return { note: (await ctx.data.get('note')) ?? null };",
      '  },',
      '});',
      '',
    ].join('\n'),
  );
  return dir;
}

/** Runs `call` and resolves with its result and how long it took, ms. */
async function timed<T>(call: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await call();
  return { result, ms: performance.now() - started };
}

/** The counter values of one metric by label text, from GET /metrics. */
async function counters(url: string, name: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m?.[1] === name) found.set(m[2] ?? '', Number(m[3]));
  }
  return found;
}

type Reply = { status: number; body: unknown } | { cut: string };

/** POSTs JSON over `agent`; `sent` resolves once the request is written to the socket; `reply` never rejects. */
function postVia(agent: Agent, url: string, body: unknown): { sent: Promise<unknown>; reply: Promise<Reply> } {
  const req = request(url, { method: 'POST', agent, headers: { 'Content-Type': 'application/json' } });
  const reply = new Promise<Reply>((resolve) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as unknown }));
      res.on('error', (err) => resolve({ cut: String(err) }));
    });
    req.on('error', (err) => resolve({ cut: String(err) }));
  });
  const sent = once(req, 'finish');
  req.end(JSON.stringify(body));
  return { sent, reply };
}

if (!MONGODB_UP) {
  console.warn('SKIPPED: store deadline against a frozen MongoDB — ../shared/services/mongodb-up is missing');
  describe('store deadline against a frozen MongoDB', () => {
    // With REQUIRE_SERVICES=1 (as in CI) a missing service is a failure, not a skip.
    if (REQUIRE_SERVICES) {
      it('mongodb-up is required when REQUIRE_SERVICES=1', () => {
        throw new Error('../shared/services/mongodb-up is required when REQUIRE_SERVICES=1');
      });
    } else {
      it.skip('runs only when ../shared/services/mongodb-up exists', () => undefined);
    }
  });
} else {
  describe('store deadline against a frozen MongoDB', () => {
    let mongo: OwnMongo;
    let hub: RunningHub;
    let token: string;
    const email = `frozen.${Date.now()}@example.com`;

    beforeAll(async () => {
      mongo = await startOwnMongo(await freePort());
      hub = await startHub(
        {
          mongodbUrl: `${mongo.url}/walker_hub_deadline`,
          storeTimeoutMs: STORE_TIMEOUT_MS,
          // Far above the store deadline: a walker stuck on the store must not reach it.
          walkerTimeoutMs: 20_000,
          // Revocations are read on each logout here; no background polling to time out beside the tests.
          revocationSyncMs: 0,
        },
        { walkers: walkersFrom({ notes }) },
      );
      expect((await post(hub, '/user/register', { email, password: 'long enough' })).status).toBe(201);
      const login = await post(hub, '/user/login', { email, password: 'long enough' });
      token = (login.body as { token: string }).token;
      expect((await post(hub, '/walker/notes', {}, { token })).status).toBe(200);
    }, 180_000);

    afterAll(async () => {
      await closeClients();
      await killChildren();
      await stopAll();
      await mongo?.stop();
    });

    /** Runs `body` with MongoDB frozen, thawing it whatever happens. */
    const whileFrozen = async <T>(body: () => Promise<T>): Promise<T> => {
      mongo.freeze();
      try {
        return await body();
      } finally {
        mongo.thaw();
      }
    };

    it('login, register and logout answer 503 store_unavailable within the deadline', async () => {
      await whileFrozen(async () => {
        const unavailable = { status: 503, body: { status: 503, error: { code: 'store_unavailable' } } };
        const login = await timed(() => post(hub, '/user/login', { email, password: 'long enough' }));
        const register = await timed(() => post(hub, '/user/register', { email: `second.${email}`, password: 'long enough' }));
        const logout = await timed(() => post(hub, '/user/logout', undefined, { token }));
        for (const { result, ms } of [login, register, logout]) {
          expect({ status: result.status, body: result.body }).toMatchObject(unavailable);
          expect(ms).toBeLessThan(STORE_TIMEOUT_MS + MARGIN_MS);
        }
        console.info(`frozen MongoDB, ${STORE_TIMEOUT_MS} ms deadline: login ${login.ms.toFixed(0)} ms, register ${register.ms.toFixed(0)} ms, logout ${logout.ms.toFixed(0)} ms`);
      });
    });

    it('a walker reading ctx.data gets store_unavailable (503), not walker_timeout, over REST and WebSocket', async () => {
      const ws = await connect(hub, { token });
      await whileFrozen(async () => {
        const rest = await timed(() => post(hub, '/walker/notes', {}, { token }));
        expect({ status: rest.result.status, body: rest.result.body }).toMatchObject({ status: 503, body: { error: { code: 'store_unavailable' } } });
        expect(rest.ms).toBeLessThan(STORE_TIMEOUT_MS + MARGIN_MS);
        const overWs = await timed(() => ws.request({ type: 'walker', walker: 'notes', context: {}, response: true }));
        expect(overWs.result).toMatchObject({ type: 'walker', walker: 'notes', status: 503, error: { code: 'store_unavailable' } });
        expect(overWs.ms).toBeLessThan(STORE_TIMEOUT_MS + MARGIN_MS);
      });
    });

    it('counts each timed-out operation in walker_hub_store_timeouts_total', async () => {
      const timeouts = await counters(hub.url, 'walker_hub_store_timeouts_total');
      for (const op of ['findUserByEmail', 'createUser', 'revokeToken', 'kvGet']) {
        expect(timeouts.get(`{op="${op}"}`), op).toBeGreaterThanOrEqual(1);
      }
      expect(timeouts.get('{op="kvGet"}')).toBe(2);
    });

    it(`SIGTERM with a login and a walker waiting on the frozen store: the command exits within the drain timeout + 2 s`, async () => {
      const child = trackChild(
        spawn(
          process.execPath,
          [
            HUB_BIN,
            ...['--host', '127.0.0.1', '--port', '0', '--mongodb-url', `${mongo.url}/walker_hub_shutdown`, '--walkers', notesWalkersDir()],
            // A store deadline far past the drain: the in-flight work outlives it, and closing must not wait for it.
            ...['--store-timeout', '60000', '--drain-timeout', String(DRAIN_TIMEOUT_MS), '--jwt-secret', TEST_SECRET],
            ...['--log-format', 'json', '--log-level', 'debug'],
          ],
          { cwd: ROOT, env: standaloneEnv({ WALKER_HUB_ANNOUNCE: '1' }) },
        ),
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const lines = () => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown> & { msg: string });
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      const port = await announcedPort(child, () => stderr);
      const base = `http://127.0.0.1:${port}`;
      const { token: userToken } = await signToken();
      const ws = await TestClient.connect(`ws://127.0.0.1:${port}/websocket`, { headers: { Authorization: `Bearer ${userToken}` } });
      // One kept-alive connection, opened before the freeze: the login below goes over a socket the hub has already accepted.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const warm = await fetchVia(agent, `${base}/healthz`);
        expect(warm).toBe(200);
        const { code, afterMs, loginReply } = await whileFrozen(async () => {
          const login = postVia(agent, `${base}/user/login`, { email: 'nobody@example.com', password: 'long enough' });
          await login.sent;
          // Frames on one socket are handled in order, and the login's bytes reached the hub before
          // this frame was sent: once `reading` is back, both wait on the frozen store.
          ws.send({ type: 'walker', walker: 'notes', context: {}, response: true });
          await ws.next('reading');
          const started = performance.now();
          child.kill('SIGTERM');
          const [exitCode] = await exited;
          return { code: exitCode, afterMs: performance.now() - started, loginReply: await login.reply };
        });
        console.info(`frozen MongoDB, ${DRAIN_TIMEOUT_MS} ms drain: exit ${code} ${afterMs.toFixed(0)} ms after SIGTERM; login ${JSON.stringify(loginReply)}`);
        expect(afterMs).toBeLessThan(DRAIN_TIMEOUT_MS + 2000);
        // 0: the hub's own bounds ended it, not the command's last resort (exit 1).
        expect(code).toBe(0);
        const byMsg = (msg: string) => lines().find((l) => l.msg === msg);
        expect(byMsg('draining')).toMatchObject({ requests: 1, walkers: 1 });
        expect(byMsg('drain timed out; closing with work in flight')).toMatchObject({ requests: 1, walkers: 1 });
      } finally {
        agent.destroy();
        await ws.close();
      }
    });
  });
}

/** GETs over `agent` and reads the body, so the socket goes back to the agent's pool; resolves with the status. */
async function fetchVia(agent: Agent, url: string): Promise<number> {
  const req = request(url, { agent });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.resume();
  await once(res, 'end');
  return res.statusCode ?? 0;
}
