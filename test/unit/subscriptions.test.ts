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
