/** The per-connection frame budget with a fake clock, alone and inside the hub (fake connections). */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import { MemoryBroker } from '../../src/broker/memory.js';
import type { Connection } from '../../src/hub/connection.js';
import { FrameBudget, GRACE_FRAMES, type Verdict } from '../../src/hub/frame-rate.js';
import { Hub } from '../../src/hub/hub.js';
import { silentLogger } from '../../src/log.js';
import { WalkerRunner } from '../../src/walkers/runner.js';
import { TEST_SECRET, unusedStore } from '../helpers.js';

const takeMany = (budget: FrameBudget, n: number, now: number): Verdict[] => Array.from({ length: n }, () => budget.take(now));

describe('FrameBudget', () => {
  it('lets a full burst through at once, then refuses', () => {
    const budget = new FrameBudget({ perSec: 100, burst: 200 }, 0);
    expect(takeMany(budget, 200, 0).every((v) => v === 'accept')).toBe(true);
    expect(budget.take(0)).toBe('refuse');
  });

  it('refills at the sustained rate, never above the burst', () => {
    const budget = new FrameBudget({ perSec: 100, burst: 200 }, 0);
    takeMany(budget, 200, 0);
    // 100 frames/s = one per 10 ms.
    expect(budget.take(9)).toBe('refuse');
    expect(budget.take(10)).toBe('accept');
    expect(budget.take(10)).toBe('refuse');
    expect(takeMany(budget, 50, 510).filter((v) => v === 'accept')).toHaveLength(50);
    // An hour idle refills only up to the burst.
    const later = 3_600_000;
    expect(takeMany(budget, 201, later).filter((v) => v === 'accept')).toHaveLength(200);
  });

  it('closes after the grace of refusals in a row; one accepted frame resets the count', () => {
    const budget = new FrameBudget({ perSec: 10, burst: 1, graceFrames: 5 }, 0);
    expect(budget.take(0)).toBe('accept');
    expect(takeMany(budget, 4, 0)).toEqual(['refuse', 'refuse', 'refuse', 'refuse']);
    expect(budget.take(100)).toBe('accept');
    expect(takeMany(budget, 5, 100)).toEqual(['refuse', 'refuse', 'refuse', 'refuse', 'close']);
    expect(budget.take(100)).toBe('close');
  });

  it('defaults the grace to GRACE_FRAMES', () => {
    const budget = new FrameBudget({ perSec: 1, burst: 1 }, 0);
    budget.take(0);
    const verdicts = takeMany(budget, GRACE_FRAMES, 0);
    expect(verdicts.slice(0, -1).every((v) => v === 'refuse')).toBe(true);
    expect(verdicts.at(-1)).toBe('close');
  });

  it('a clock going backwards refills nothing', () => {
    const budget = new FrameBudget({ perSec: 1000, burst: 1 }, 1000);
    expect(budget.take(1000)).toBe('accept');
    expect(budget.take(500)).toBe('refuse');
    expect(budget.take(500.5)).toBe('refuse');
    expect(budget.take(501)).toBe('accept');
  });
});

class FakeConnection implements Connection {
  readonly sent: Array<Record<string, unknown>> = [];
  closedWith: { code: number; reason: string } | null = null;
  send(frame: string): void {
    this.sent.push(JSON.parse(frame) as Record<string, unknown>);
  }
  subscribe(): void {}
  unsubscribe(): void {}
  end(code: number, reason: string): void {
    this.closedWith = { code, reason };
  }
}

describe('Hub frame budget (fake clock)', () => {
  async function setup(frameRate?: { perSec: number; burst: number }) {
    let now = 0;
    const { authenticator } = createAuthenticator({ jwtSecret: TEST_SECRET }, silentLogger);
    const broker = new MemoryBroker();
    const runner = new WalkerRunner(new Map(), broker, unusedStore, { walkerTimeoutMs: 1000 }, silentLogger);
    const options = { peerEvents: 'public' as const, maxInflightWalkers: 4, ...(frameRate ? { frameRate } : {}) };
    const hub = new Hub({ options, authenticator, runner, broker, log: silentLogger, now: () => now });
    await hub.start({ publish() {} });
    const open = () => {
      const session = hub.newSession();
      const conn = new FakeConnection();
      hub.open(session, conn);
      conn.sent.length = 0;
      return { conn, ping: (uid: string) => hub.message(session, JSON.stringify({ type: 'ping', uid })) };
    };
    return { open, advance: (ms: number) => (now += ms) };
  }

  it('answers frames over the budget with rate_limited (dropped), closes with 4029 after the grace, and leaves other sockets alone', async () => {
    const { open, advance } = await setup({ perSec: 10, burst: 3 });
    const a = open();
    const b = open();
    for (const uid of ['1', '2', '3', '4']) a.ping(uid);
    expect(a.conn.sent).toEqual([
      { type: 'pong', uid: '1' },
      { type: 'pong', uid: '2' },
      { type: 'pong', uid: '3' },
      { type: 'error', error: { code: 'rate_limited', message: 'Over 10 frames/s (burst 3); frame dropped' } },
    ]);
    b.ping('b');
    expect(b.conn.sent).toEqual([{ type: 'pong', uid: 'b' }]);
    advance(100);
    a.ping('5');
    expect(a.conn.sent.at(-1)).toEqual({ type: 'pong', uid: '5' });
    for (let i = 0; i < GRACE_FRAMES; i++) a.ping(`x${i}`);
    expect(a.conn.closedWith).toEqual({ code: 4029, reason: 'frame rate limit exceeded' });
    expect(a.conn.sent.filter((f) => f.type === 'error')).toHaveLength(GRACE_FRAMES);
    expect(b.conn.closedWith).toBeNull();
  });

  it('is off without frameRate or with perSec 0', async () => {
    for (const rate of [undefined, { perSec: 0, burst: 1 }]) {
      const { open } = await setup(rate);
      const a = open();
      for (let i = 0; i < 1000; i++) a.ping(String(i));
      expect(a.conn.sent.filter((f) => f.type === 'pong')).toHaveLength(1000);
    }
  });
});
