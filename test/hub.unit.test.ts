/** The socket-free core, driven through fake connections: no network, same code paths as uWS. */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../src/auth.js';
import { MemoryBroker } from '../src/broker_memory.js';
import type { Connection } from '../src/connection.js';
import { Hub, MAX_QUEUED_FRAMES } from '../src/hub.js';
import { silentLogger } from '../src/log.js';
import { WalkerRunner } from '../src/walkers/runner.js';
import { signToken, TEST_SECRET } from './helpers.js';

class FakeConnection implements Connection {
  readonly sent: Array<Record<string, unknown>> = [];
  readonly topics = new Set<string>();
  closedWith: { code: number; reason: string } | null = null;
  private waiter: { count: number; resolve: () => void } | null = null;
  send(frame: string): void {
    this.sent.push(JSON.parse(frame) as Record<string, unknown>);
    if (this.waiter && this.sent.length >= this.waiter.count) this.waiter.resolve();
  }
  /** Resolves once `count` frames have been sent to this connection. */
  until(count: number): Promise<void> {
    if (this.sent.length >= count) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = { count, resolve }));
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

async function setup() {
  const { authenticator } = createAuthenticator({ jwtSecret: TEST_SECRET }, silentLogger);
  const broker = new MemoryBroker();
  const runner = new WalkerRunner(new Map(), broker, { walkerTimeoutMs: 1000 }, silentLogger);
  const hub = new Hub({ options: { peerEvents: 'public', maxInflightWalkers: 4 }, authenticator, runner, broker, log: silentLogger });
  const conns: FakeConnection[] = [];
  const published: string[] = [];
  await hub.start({
    publish(topic, frame) {
      published.push(topic);
      for (const c of conns) if (c.topics.has(topic)) c.send(frame);
    },
  });
  const open = (channel?: string) => {
    const session = hub.newSession(undefined, channel);
    const conn = new FakeConnection();
    conns.push(conn);
    hub.open(session, conn);
    return { session, conn, send: (frame: unknown) => hub.message(session, JSON.stringify(frame)) };
  };
  return { hub, open, published };
}

describe('Hub (fake connections)', () => {
  it('holds frames behind a pending change_user and replays them in order', async () => {
    const { open } = await setup();
    const a = open();
    const { token, rootId } = await signToken();
    a.send({ type: 'change_user', token, uid: '1' });
    a.send({ type: 'connection', uid: '2' });
    a.send({ type: 'ping', uid: '3' });
    // Nothing after change_user has been handled yet: the token is still being verified.
    expect(a.conn.sent.map((f) => f['uid'])).toEqual([undefined]);
    await a.conn.until(4);
    expect(a.conn.sent.map((f) => [f['type'], f['uid']])).toEqual([
      ['connection', undefined],
      ['connection', '1'],
      ['connection', '2'],
      ['pong', '3'],
    ]);
    expect((a.conn.sent[2]!['data'] as { root_id: string }).root_id).toBe(rootId);
  });

  it(`cuts off a socket that queues more than ${MAX_QUEUED_FRAMES} frames behind change_user`, async () => {
    const { open } = await setup();
    const a = open();
    a.send({ type: 'change_user', token: 'not-a-jwt' });
    for (let i = 0; i < MAX_QUEUED_FRAMES + 1; i++) a.send({ type: 'ping' });
    expect(a.conn.closedWith).toEqual({ code: 1008, reason: 'too many frames queued behind change_user' });
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

  it('does not publish to channels or users nobody is in', async () => {
    const { open, published } = await setup();
    const a = open();
    a.send({ type: 'channel', channel_ids: ['nobody'], data: 1 });
    a.send({ type: 'user', root_ids: ['n::ffffffffffffffffffffffff'], data: 1 });
    expect(published).toEqual([]);
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
