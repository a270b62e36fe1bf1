/** The socket-free core, driven through fake connections: no network, same code paths as uWS. */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import { MemoryBroker } from '../../src/broker/memory.js';
import type { Connection } from '../../src/hub/connection.js';
import { createLocalDelivery } from '../../src/hub/delivery.js';
import { Hub } from '../../src/hub/hub.js';
import { createLogger, silentLogger, type Logger } from '../../src/log.js';
import type { LoadedWalker } from '../../src/walkers/loader.js';
import { WalkerRunner } from '../../src/walkers/runner.js';
import { signToken, TEST_SECRET, unusedStore } from '../helpers.js';

class FakeConnection implements Connection {
  readonly sent: Array<Record<string, unknown>> = [];
  readonly topics = new Set<string>();
  closedWith: { code: number; reason: string } | null = null;
  send(frame: string): void {
    this.sent.push(JSON.parse(frame) as Record<string, unknown>);
  }
  subscribe(topic: string): void {
    this.topics.add(topic);
  }
  unsubscribe(topic: string): void {
    this.topics.delete(topic);
  }
  end(code: number, reason: string): void {
    this.closedWith = { code, reason };
  }
}

async function setup(options: { walkers?: ReadonlyMap<string, LoadedWalker>; log?: Logger } = {}) {
  const log = options.log ?? silentLogger;
  const { authenticator } = createAuthenticator({ jwtSecret: TEST_SECRET }, silentLogger);
  const broker = new MemoryBroker();
  const runner = new WalkerRunner(options.walkers ?? new Map(), broker, unusedStore, { walkerTimeoutMs: 1000 }, log);
  const hub = new Hub({ options: { peerEvents: 'public', maxInflightWalkers: 4 }, authenticator, runner, broker, log });
  const conns: FakeConnection[] = [];
  const published: string[] = [];
  await hub.start({
    publish(topic, frame) {
      published.push(topic);
      for (const c of conns) if (c.topics.has(topic)) c.send(frame);
    },
  });
  const open = (channel?: string, token?: string) => {
    const session = hub.newSession(token === undefined ? undefined : authenticator.verify(token), channel);
    const conn = new FakeConnection();
    conns.push(conn);
    hub.open(session, conn);
    return { session, conn, send: (frame: unknown) => hub.message(session, JSON.stringify(frame)) };
  };
  return { hub, open, published, broker };
}

describe('Hub (fake connections)', () => {
  it('handles frames strictly in arrival order, an identity change included', async () => {
    const { open } = await setup();
    const a = open();
    const { token, rootId } = await signToken();
    a.send({ type: 'change_user', token, uid: '1' });
    a.send({ type: 'connection', uid: '2' });
    a.send({ type: 'change_user', token: 'not-a-jwt', uid: '3' });
    a.send({ type: 'ping', uid: '4' });
    expect(a.conn.sent.map((f) => [f['type'], f['uid']])).toEqual([
      ['connection', undefined],
      ['connection', '1'],
      ['connection', '2'],
      ['error', '3'],
      ['connection', '3'],
      ['pong', '4'],
    ]);
    expect((a.conn.sent[2]!['data'] as { root_id: string }).root_id).toBe(rootId);
    expect((a.conn.sent[4]!['data'] as { root_id: string }).root_id).toBe('n::000000000000000000000001');
  });

  it('publishes a single-channel frame once to the topic, and a multi-channel frame once per member', async () => {
    const { open, published } = await setup();
    const a = open('A');
    const b = open('B');
    a.send({ type: 'subscribe', channel_ids: ['B'] });
    a.send({ type: 'channel', channel_ids: ['A'], data: { n: 1 } });
    expect(published).toEqual(['c:A']);
    a.send({ type: 'channel', channel_ids: ['A', 'B', 'A'], data: { n: 2 } });
    expect(published).toEqual(['c:A']);
    expect(a.conn.sent.filter((f) => 'n' in f)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(b.conn.sent.filter((f) => 'n' in f)).toEqual([{ n: 2 }]);
  });

  it('does not publish to channels nobody is in', async () => {
    const { open, published } = await setup();
    const a = open();
    a.send({ type: 'channel', channel_ids: ['nobody'], data: 1 });
    expect(published).toEqual([]);
    expect(a.conn.sent.filter((f) => f['type'] !== 'connection')).toEqual([]);
  });

  it('sends a user frame once to each socket of that user, to nobody else, and leaves no entry for users with no sockets', async () => {
    const { hub, open, published } = await setup();
    const alice = await signToken();
    const bob = await signToken();
    const sender = open();
    const alice1 = open(undefined, alice.token);
    const alice2 = open(undefined, alice.token);
    const bob1 = open(undefined, bob.token);
    const nobody = 'n::ffffffffffffffffffffffff';
    const before = hub.counts();

    sender.send({ type: 'user', root_ids: [nobody], data: { n: 1 } });
    sender.send({ type: 'user', root_ids: [alice.rootId, nobody, alice.rootId], data: { n: 2 } });

    const payloads = (c: { conn: FakeConnection }) => c.conn.sent.filter((f) => 'n' in f);
    expect(payloads(alice1)).toEqual([{ n: 2 }]);
    expect(payloads(alice2)).toEqual([{ n: 2 }]);
    expect(payloads(bob1)).toEqual([]);
    expect(payloads(sender)).toEqual([]);
    // Users are sent to directly, never through a topic.
    expect(published).toEqual([]);
    expect(hub.registry.clientsOfUser(nobody)).toBeUndefined();
    expect(hub.registry.clientsOfUser(alice.rootId)?.size).toBe(2);
    expect(hub.counts()).toEqual(before);
  });

  it('answers a handler failure with an internal error whose error_id is logged with the client_id', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger('debug', 'json', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    const broken = new (class extends Map<string, LoadedWalker> {
      override get(): LoadedWalker {
        throw new Error('registry broken');
      }
    })();
    const { open } = await setup({ walkers: broken, log });
    const a = open();
    a.send({ type: 'walker', walker: 'any', uid: 'w1' });
    const reply = a.conn.sent.at(-1) as { type: string; uid: string; error: { code: string; error_id: string } };
    expect(reply).toMatchObject({ type: 'error', uid: 'w1', error: { code: 'internal', error_id: expect.any(String) } });
    expect(lines).toEqual([expect.objectContaining({ level: 'error', msg: 'frame handler failed', type: 'walker', client_id: a.session.clientId, error_id: reply.error.error_id })]);
  });

  it('forgets a closed session and ignores frames for it', async () => {
    const { hub, open } = await setup();
    const a = open();
    hub.close(a.session);
    a.send({ type: 'ping' });
    expect(a.conn.sent).toHaveLength(1);
    expect(hub.counts()).toEqual({ clients: 0, channels: 0, users: 0 });
  });
});

describe('broadcast delivery and local counts (fake connections)', () => {
  it('joins every socket to the broadcast topic, publishes a broadcast once, and counts what each delivery reached', async () => {
    const { hub, open, published, broker } = await setup();
    const { token, rootId } = await signToken();
    const a = open('room', token);
    const b = open('room');
    const c = open('elsewhere', token);
    for (const x of [a, b, c]) expect(x.conn.topics).toContain('b:*');
    expect(hub.reach('broadcast', [])).toBe(3);
    expect(hub.reach('users', [rootId, rootId])).toBe(2);
    expect(hub.reach('channels', ['room', 'elsewhere', 'room'])).toBe(3);
    expect(hub.reach('clients', [a.session.clientId, a.session.clientId, 'gone'])).toBe(1);
    expect(hub.connectionsByAuth()).toEqual({ authenticated: 2, public: 1 });

    published.length = 0;
    broker.publish({ kind: 'broadcast', ids: [], frame: '{"type":"all"}' });
    expect(published).toEqual(['b:*']);
    for (const x of [a, b, c]) expect(x.conn.sent.at(-1)).toEqual({ type: 'all' });

    // The local delivery function returns the connections it reached, for every kind.
    const deliver = createLocalDelivery(hub.registry, { publish: () => undefined });
    expect(deliver({ kind: 'broadcast', ids: [], frame: '1' })).toBe(3);
    expect(deliver({ kind: 'users', ids: [rootId], frame: '1' })).toBe(2);
    expect(deliver({ kind: 'channels', ids: ['room'], frame: '1' })).toBe(2);
    expect(deliver({ kind: 'channels', ids: ['room', 'elsewhere'], frame: '1' })).toBe(3);
    expect(deliver({ kind: 'clients', ids: [b.session.clientId, 'gone'], frame: '1' })).toBe(1);
    expect(deliver({ kind: 'channels', ids: ['nobody'], frame: '1' })).toBe(0);
  });
});
