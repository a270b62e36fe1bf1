/** Batched subscription changes against a fake server connection (no Redis needed). */
import { describe, expect, it } from 'vitest';
import { Subscriptions } from '../../src/broker/subscriptions.js';

function fake(fail = false) {
  const calls: Array<[op: 'sub' | 'unsub', topics: string[]]> = [];
  let failing = fail;
  const errors: unknown[] = [];
  const ops = {
    subscribe: (topics: string[]) => (calls.push(['sub', topics]), failing ? Promise.reject(new Error('down')) : Promise.resolve()),
    unsubscribe: (topics: string[]) => (calls.push(['unsub', topics]), failing ? Promise.reject(new Error('down')) : Promise.resolve()),
  };
  const subs = new Subscriptions(ops, (err) => errors.push(err));
  return { subs, calls, errors, heal: () => (failing = false) };
}

describe('Subscriptions', () => {
  it('sends a burst of changes as one command per turn, and nothing for a topic added and removed in it', async () => {
    const { subs, calls } = fake();
    subs.up(true);
    for (let i = 0; i < 5; i++) subs.add(`t${i}`);
    subs.add('t0');
    subs.add('gone');
    subs.delete('gone');
    expect(calls).toEqual([]);
    await subs.settled();
    expect(calls.splice(0)).toEqual([['sub', ['t0', 't1', 't2', 't3', 't4']]]);
    expect(subs.size).toBe(5);
    subs.delete('t1');
    subs.delete('t3');
    subs.delete('never');
    await subs.settled();
    expect(calls.splice(0)).toEqual([['unsub', ['t1', 't3']]]);
    expect(subs.size).toBe(3);
  });

  it('bounds one command to 500 topics', async () => {
    const { subs, calls } = fake();
    subs.up(true);
    for (let i = 0; i < 1200; i++) subs.add(`t${i}`);
    await subs.settled();
    expect(calls.map(([op, topics]) => [op, topics.length])).toEqual([
      ['sub', 500],
      ['sub', 500],
      ['sub', 200],
    ]);
  });

  it('holds changes while down and asks a fresh connection for everything wanted', async () => {
    const { subs, calls } = fake();
    subs.up(true);
    subs.add('a');
    subs.add('b');
    await subs.settled();
    calls.splice(0);
    subs.down();
    subs.add('c');
    subs.delete('a');
    await subs.settled();
    expect(calls).toEqual([]);
    subs.up(true);
    await subs.settled();
    expect(calls.map(([op, topics]) => [op, [...topics].sort()])).toEqual([['sub', ['b', 'c']]]);
    expect(subs.size).toBe(2);
  });

  it('keeps no trace of topics that came and went while down (churn during an outage is not stored)', async () => {
    const { subs, calls } = fake();
    subs.up(true);
    subs.add('kept');
    subs.add('left');
    await subs.settled();
    calls.splice(0);
    subs.down();
    for (let i = 0; i < 1000; i++) {
      subs.add(`client-${i}`);
      subs.delete(`client-${i}`);
    }
    subs.delete('left');
    subs.add('left');
    expect(subs.pending).toBe(0);
    subs.delete('left');
    expect(subs.pending).toBe(1);
    subs.up(false);
    await subs.settled();
    expect(calls).toEqual([['unsub', ['left']]]);
  });

  it('re-sends only what changed to a connection that kept its subscriptions', async () => {
    const { subs, calls } = fake();
    subs.up(true);
    subs.add('a');
    await subs.settled();
    calls.splice(0);
    subs.down();
    subs.add('b');
    subs.up(false);
    await subs.settled();
    expect(calls).toEqual([['sub', ['b']]]);
  });

  it('retries topics whose command failed with the next change', async () => {
    const { subs, calls, errors, heal } = fake(true);
    subs.up(true);
    subs.add('a');
    await subs.settled();
    expect(errors).toHaveLength(1);
    expect(subs.size).toBe(0);
    heal();
    subs.add('b');
    await subs.settled();
    expect(calls.slice(1)).toEqual([['sub', ['a', 'b']]]);
    expect(subs.size).toBe(2);
  });

  it('unsubscribes from everything on close and sends nothing after', async () => {
    const { subs, calls } = fake();
    subs.up(true);
    subs.add('a');
    subs.add('b');
    await subs.settled();
    calls.splice(0);
    await subs.close();
    expect(calls).toEqual([['unsub', ['a', 'b']]]);
    subs.add('c');
    await subs.settled();
    expect(calls).toHaveLength(1);
  });
});

/** A fake server whose replies the test releases by hand, to see what is live before and after. */
function manual() {
  const calls: Array<{ op: 'sub' | 'unsub'; topics: string[]; reply: () => void; fail: () => void }> = [];
  const call = (op: 'sub' | 'unsub') => (topics: string[]) =>
    new Promise<unknown>((resolve, reject) => calls.push({ op, topics, reply: () => resolve(undefined), fail: () => reject(new Error('dropped')) }));
  const subs = new Subscriptions({ subscribe: call('sub'), unsubscribe: call('unsub') }, () => {}, 60_000);
  /** Lets the batching turn run, so the commands are sent. */
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  return { subs, calls, turn };
}

describe('Subscriptions: what is live', () => {
  it('is live only once the server confirmed the SUBSCRIBE; topics not wanted are ignored', async () => {
    const { subs, calls, turn } = manual();
    subs.up(true);
    subs.add('a');
    expect(subs.whenLive(['not-wanted'])).toBeNull();
    const live = subs.whenLive(['a', 'a']);
    expect(live).toBeInstanceOf(Promise);
    let done: boolean | null = null;
    void live!.then((ok) => (done = ok));
    await turn();
    expect(calls.map((c) => [c.op, c.topics])).toEqual([['sub', ['a']]]);
    expect(done).toBeNull();
    calls[0]!.reply();
    await live;
    expect(done).toBe(true);
    expect(subs.whenLive(['a'])).toBeNull();
  });

  it('waits for every topic of a wait, and a topic no longer wanted counts as done', async () => {
    const { subs, calls, turn } = manual();
    subs.up(true);
    subs.add('a');
    await turn();
    subs.add('b');
    const live = subs.whenLive(['a', 'b'])!;
    let done: boolean | null = null;
    void live.then((ok) => (done = ok));
    await turn();
    calls[0]!.reply();
    await turn();
    expect(done).toBeNull();
    subs.add('c');
    subs.delete('b');
    expect(await live).toBe(true);
  });

  it('is not live after an UNSUBSCRIBE was sent, nor from a stale SUBSCRIBE reply, until confirmed again', async () => {
    const { subs, calls, turn } = manual();
    subs.up(true);
    subs.add('a');
    await turn();
    calls[0]!.reply();
    await turn();
    expect(subs.whenLive(['a'])).toBeNull();
    subs.delete('a');
    await turn();
    subs.add('a');
    await turn();
    expect(calls.map((c) => c.op)).toEqual(['sub', 'unsub', 'sub']);
    const live = subs.whenLive(['a'])!;
    expect(live).toBeInstanceOf(Promise);
    // The UNSUBSCRIBE's reply confirms nothing; the second SUBSCRIBE's does.
    calls[1]!.reply();
    await turn();
    expect(subs.whenLive(['a'])).not.toBeNull();
    calls[2]!.reply();
    expect(await live).toBe(true);
  });

  it('re-arms on a dropped connection: a reply from before confirms nothing, and a kept subscription is asked again when awaited', async () => {
    const { subs, calls, turn } = manual();
    subs.up(true);
    subs.add('a');
    await turn();
    calls[0]!.reply();
    await turn();
    subs.add('b');
    await turn();
    subs.down();
    calls[1]!.reply();
    await turn();
    expect(subs.whenLive(['a'])).not.toBeNull();
    expect(subs.whenLive(['b'])).not.toBeNull();
    // A connection that kept its subscriptions (Redis Cluster: ioredis re-subscribes itself): asked again, idempotently.
    subs.up(false);
    await turn();
    expect(calls.slice(2).map((c) => [c.op, [...c.topics].sort()])).toEqual([['sub', ['a', 'b']]]);
    calls[2]!.reply();
    await turn();
    expect(subs.whenLive(['a', 'b'])).toBeNull();
  });

  it('ends a wait with false after the timeout, at once when down longer than that, and on close', async () => {
    const ops = { subscribe: () => new Promise<unknown>(() => {}), unsubscribe: () => Promise.resolve() };
    const subs = new Subscriptions(ops, () => {}, 100);
    subs.up(true);
    subs.add('a');
    expect(await subs.whenLive(['a'])).toBe(false);
    subs.down();
    const downWait = subs.whenLive(['a'])!;
    expect(await downWait).toBe(false);
    // One more full wait makes sure the broker has been down for over 100 ms; then no wait at all:
    // the answer comes before a macrotask turn (a timer could not).
    await subs.whenLive(['a']);
    const immediate = new Promise<string>((resolve) => setImmediate(() => resolve('waited')));
    expect(await Promise.race([subs.whenLive(['a']) ?? Promise.resolve(false), immediate])).toBe(false);
    subs.up(true);
    const closing = subs.whenLive(['a'])!;
    // Waiters end first; close() itself then waits for the SUBSCRIBE that never gets a reply (the broker bounds that).
    void subs.close();
    expect(await closing).toBe(false);
    expect(subs.whenLive(['a'])).toBeNull();
  });
});
