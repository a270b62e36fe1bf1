/**
 * Test helpers: a real hub on port 0, real `ws` clients, frames awaited (never slept for).
 */
import { SignJWT, type JWTPayload } from 'jose';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import type { Clock } from '../src/clock.js';
import { parseConfig, type ConfigInput } from '../src/config.js';
import { silentLogger, type Logger } from '../src/log.js';
import { createHub, type RunningHub } from '../src/node.js';
import type { ChannelsFile } from '../src/channels/schema.js';
import type { LoadedCollection } from '../src/collections/loader.js';
import type { Store } from '../src/store/store.js';
import type { WalkerDefinition } from '../src/walkers/define.js';
import { checkWalker, type LoadedWalker } from '../src/walkers/loader.js';

export const EXAMPLE_WALKERS = resolve(import.meta.dirname, '../walkers');
export const TEST_SECRET = 'test-secret-that-is-at-least-32-characters-long';

const running = new Set<RunningHub>();
const dataDirs = new Set<string>();

/** A fresh temp folder, removed by stopAll(). */
export function tempDir(prefix = 'walker-hub-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dataDirs.add(dir);
  return dir;
}

/** Starts a hub on 127.0.0.1:0 with the example walkers unless told otherwise. Stop it with stopAll(). */
export async function startHub(
  options: Partial<ConfigInput> = {},
  extra: { walkers?: ReadonlyMap<string, LoadedWalker>; log?: Logger; store?: Store; clock?: Clock; channels?: ChannelsFile; collections?: ReadonlyMap<string, LoadedCollection> } = {},
): Promise<RunningHub> {
  const config = parseConfig({
    host: '127.0.0.1',
    port: 0,
    walkersDir: EXAMPLE_WALKERS,
    jwtSecret: TEST_SECRET,
    logLevel: 'silent',
    // Each hub gets its own embedded store; scrypt at its lowest allowed cost keeps tests quick.
    dataDir: tempDir(),
    passwordHashCost: 10,
    ...options,
  });
  const hub = await createHub({ config, log: extra.log ?? silentLogger, ...(extra.walkers ? { walkers: extra.walkers } : {}), ...(extra.store ? { store: extra.store } : {}), ...(extra.clock ? { clock: extra.clock } : {}), ...(extra.channels ? { channels: extra.channels } : {}), ...(extra.collections ? { collections: extra.collections } : {}) });
  running.add(hub);
  return hub;
}

export async function stopAll(): Promise<void> {
  const hubs = [...running];
  running.clear();
  await Promise.all(hubs.map((h) => h.close()));
  const dirs = [...dataDirs];
  dataDirs.clear();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}

export function wsUrl(hub: RunningHub, query = ''): string {
  return `ws://127.0.0.1:${hub.port}/websocket${query}`;
}

let userSeq = 0;
/** Signs an HS256 token for a fresh user (or the given claims). */
export async function signToken(claims: JWTPayload = {}, options: { secret?: string; expiresIn?: string | number } = {}): Promise<{ token: string; rootId: string; userId: string }> {
  userSeq++;
  const userId = (claims.sub as string | undefined) ?? `user-${userSeq}`;
  const rootId = (claims['root_id'] as string | undefined) ?? `n::${randomBytes(12).toString('hex')}`;
  const jwt = new SignJWT({ root_id: rootId, ...claims }).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuedAt();
  jwt.setExpirationTime(options.expiresIn ?? '1h');
  const token = await jwt.sign(new TextEncoder().encode(options.secret ?? TEST_SECRET));
  return { token, rootId, userId };
}

export type Frame = Record<string, unknown> & { type?: string };

export interface ConnectionFrame {
  type: 'connection';
  data: { client_id: string; root_id: string; channel_id: string };
}

/** A `ws` client that queues every incoming frame so tests can await them in order. */
export class TestClient {
  readonly frames: Frame[] = [];
  private waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void; reject: (e: Error) => void }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  info!: ConnectionFrame['data'];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw, isBinary) => {
      const frame = JSON.parse(isBinary ? Buffer.from(raw as Buffer).toString() : raw.toString()) as Frame;
      const i = this.waiters.findIndex((w) => w.match(frame));
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        w!.resolve(frame);
      } else {
        this.frames.push(frame);
      }
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        for (const w of this.waiters.splice(0)) w.reject(new Error(`socket closed (${code}) while waiting for a frame`));
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  /** Connects and waits for the `connection` frame. */
  static async connect(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, options);
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    const first = (await client.next('connection')) as unknown as ConnectionFrame;
    client.info = first.data;
    return client;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolves with the first queued or future frame matching `type` (or a predicate). */
  next(match?: string | ((f: Frame) => boolean)): Promise<Frame> {
    const pred = match === undefined ? () => true : typeof match === 'string' ? (f: Frame) => f?.type === match : match;
    const i = this.frames.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0] as Frame);
    if (this.ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('socket is not open'));
    return new Promise((resolve, reject) => this.waiters.push({ match: pred, resolve, reject }));
  }

  /** Sends a frame and awaits the reply that echoes its uid. */
  async request(frame: Record<string, unknown>): Promise<Frame> {
    const uid = `r${Math.random().toString(36).slice(2)}`;
    this.send({ ...frame, uid });
    return this.next((f) => f?.uid === uid);
  }

  /**
   * A barrier: after it resolves, every frame the hub wrote to this socket before handling the
   * ping has arrived. Use it to assert that something was NOT delivered.
   */
  async sync(): Promise<void> {
    await this.request({ type: 'ping' });
  }

  /** Frames received so far and not yet consumed, of a given type. */
  pending(type?: string): Frame[] {
    return type === undefined ? [...this.frames] : this.frames.filter((f) => f.type === type);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }
}

const clients = new Set<TestClient>();

/** Connects a client that closeClients() will close. */
export async function connect(hub: RunningHub, options: { query?: string; token?: string; headers?: Record<string, string> } = {}): Promise<TestClient> {
  const headers = { ...options.headers };
  if (options.token) headers['Authorization'] = `Bearer ${options.token}`;
  const client = await TestClient.connect(wsUrl(hub, options.query ?? ''), { headers });
  clients.add(client);
  return client;
}

export async function closeClients(): Promise<void> {
  const all = [...clients];
  clients.clear();
  await Promise.all(all.map((c) => c.close()));
}

/** POSTs to a walker; returns status, headers and parsed JSON body. */
export async function post(hub: RunningHub, path: string, body?: unknown, init: { token?: string; headers?: Record<string, string>; raw?: string } = {}) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers['Authorization'] = `Bearer ${init.token}`;
  let payload: string | undefined = init.raw;
  if (payload === undefined && body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(`${hub.url}${path}`, { method: 'POST', headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> };
}


/** Turns walker definitions into the map createHub takes, exactly as the loader would check them. */
export function walkersFrom(defs: Record<string, WalkerDefinition>): Map<string, LoadedWalker> {
  const map = new Map<string, LoadedWalker>();
  for (const [file, def] of Object.entries(defs)) {
    const { walker, problems } = checkWalker(`${file}.ts`, def);
    if (!walker) throw new Error(problems.join('; '));
    map.set(walker.name, walker);
  }
  return map;
}

/** For socket-free tests whose walkers never touch ctx.data: any store call rejects. */
export const unusedStore: Store = new Proxy({} as Store, { get: () => () => Promise.reject(new Error('store not used in this test')) });

/** Attempts an upgrade that must be refused; resolves with the HTTP status and JSON body (rejects if it opens). */
export async function refusedUpgrade(
  hub: RunningHub,
  opts: { query?: string; token?: string; authorization?: string },
): Promise<{ status: number; body: Record<string, unknown> }> {
  const authorization = opts.authorization ?? (opts.token ? `Bearer ${opts.token}` : undefined);
  const ws = new WebSocket(wsUrl(hub, opts.query ?? ''), { headers: authorization ? { Authorization: authorization } : {} });
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  try {
    return await new Promise((resolve, reject) => {
      ws.on('error', reject); // also swallows the error terminate() emits during a handshake
      ws.once('open', () => reject(new Error('upgrade was accepted')));
      ws.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> }));
      });
    });
  } finally {
    ws.terminate();
    await closed;
  }
}

/**
 * The environment for a hub command a test spawns on its own: the test run's, without the service
 * URLs CI sets for other tests (MONGODB_URL, REDIS_URL, REDIS_CLUSTER_NODES) and without any
 * WALKER_HUB_* setting, so a single-node hub on its embedded store is what runs, plus `extra`.
 */
export function standaloneEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith('WALKER_HUB_') || key === 'MONGODB_URL' || key === 'REDIS_URL' || key === 'REDIS_CLUSTER_NODES') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}
