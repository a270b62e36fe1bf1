/**
 * The one Broker contract: memory, Redis and Redis Cluster run these through their own factory
 * (broker-*.test.ts). Each test gets fresh brokers on a fresh topic prefix. Cross-node tests run
 * where the factory can make a second node; the memory broker has only one.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Broker, Delivery } from '../../src/broker/broker.js';
import { ControlLog, Recorder, to } from '../broker-helpers.js';

export interface BrokerNode {
  readonly broker: Broker;
  readonly got: Recorder;
}

export interface BrokerFixture {
  /** A started node; every node of one fixture shares the backend. Memory fixtures make one only. */
  node(): Promise<BrokerNode>;
  /** Target topics the server holds subscriptions for (all nodes), or null without a server. */
  targetTopics(): Promise<string[] | null>;
  /** Closes every node and what the fixture opened. */
  cleanup(): Promise<void>;
}

const frame = (i: number | string) => JSON.stringify({ type: 'user', data: { i } });

/** `multiNode`: whether the factory can make more than one node (the memory broker cannot). */
export function brokerContract(name: string, options: { multiNode: boolean }, factory: () => Promise<BrokerFixture>): void {
  describe(`${name} broker contract`, () => {
    let fixture: BrokerFixture;
    beforeEach(async () => {
      fixture = await factory();
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('delivers a local publish at once, exactly as given, once', async () => {
      const a = await fixture.node();
      a.broker.track('users', 'u1');
      const delivery: Delivery = { kind: 'users', ids: ['u1'], frame: frame('local') };
      a.broker.publish(delivery);
      expect(a.got.got).toEqual([delivery]);
      await a.broker.settled();
      a.broker.publish({ kind: 'users', ids: ['u1'], frame: frame('second') });
      expect(a.got.frames()).toEqual([frame('local'), frame('second')]);
    });

    it('keeps the order of 200 local publishes', async () => {
      const a = await fixture.node();
      for (let i = 0; i < 200; i++) a.broker.publish({ kind: 'channels', ids: ['c'], frame: frame(i) });
      expect(a.got.frames()).toEqual(Array.from({ length: 200 }, (_, i) => frame(i)));
    });

    it('reports its health, and closes (unsubscribing) twice without error', async () => {
      const a = await fixture.node();
      const health = a.broker.health();
      expect(['local', 'up']).toContain(health.state);
      expect(health.dropped).toBe(0);
      a.broker.track('channels', 'room');
      await a.broker.settled();
      await a.broker.close();
      await a.broker.close();
      expect(await fixture.targetTopics()).toEqual(options.multiNode ? [] : null);
    });

    // A single-node broker has no other node to reach: these are not registered for it (rather than skipped).
    if (!options.multiNode) {
      it('reports a tracked target live at once (null: answer synchronously)', async () => {
        const a = await fixture.node();
        a.broker.track('channels', 'room');
        expect(a.broker.whenLive('channels', ['room'])).toBeNull();
      });
    }
    if (options.multiNode) {
      describe('across nodes', () => {
        it('delivers from another node as soon as whenLive says a freshly tracked target is live', async () => {
          const [a, b] = [await fixture.node(), await fixture.node()];
          for (let i = 0; i < 50; i++) {
            a.broker.track('channels', `live-${i}`);
            expect(await a.broker.whenLive('channels', [`live-${i}`])).toBe(true);
            // Live now: confirmed on the server, answered synchronously from here on.
            expect(a.broker.whenLive('channels', [`live-${i}`])).toBeNull();
            b.broker.publish({ kind: 'channels', ids: [`live-${i}`], frame: frame(i) });
          }
          // Different topics (shards, in a cluster) keep no order among each other: every one arrives.
          await a.got.wait((d) => d.ids.some((id) => id.startsWith('live-')), 50);
          expect([...a.got.frames()].sort()).toEqual(Array.from({ length: 50 }, (_, i) => frame(i)).sort());
        });

        it('delivers to a node that tracks the target, and not to one that does not', async () => {
          const [a, b, c] = [await fixture.node(), await fixture.node(), await fixture.node()];
          a.broker.track('users', 'u1');
          b.broker.track('channels', 'room');
          await Promise.all([a.broker.settled(), b.broker.settled()]);
          c.broker.publish({ kind: 'users', ids: ['u1'], frame: frame('to-u1') });
          c.broker.publish({ kind: 'channels', ids: ['room'], frame: frame('to-room') });
          c.broker.publish({ kind: 'clients', ids: ['k1'], frame: frame('to-k1') });
          await a.got.wait(to('u1'));
          await b.got.wait(to('room'));
          // The server holds exactly the tracked targets, so the untracked ones can never arrive.
          expect(await fixture.targetTopics()).toEqual(expect.arrayContaining([expect.stringMatching(/u:u1$/), expect.stringMatching(/c:room$/)]));
          expect(await fixture.targetTopics()).toHaveLength(2);
          // A later message on a tracked topic from the same publisher is a barrier on one server.
          c.broker.publish({ kind: 'users', ids: ['u1'], frame: frame('barrier') });
          await a.got.wait((d) => d.frame === frame('barrier'));
          expect(a.got.got).toEqual([
            { kind: 'users', ids: ['u1'], frame: frame('to-u1') },
            { kind: 'users', ids: ['u1'], frame: frame('barrier') },
          ]);
          expect(b.got.got).toEqual([{ kind: 'channels', ids: ['room'], frame: frame('to-room') }]);
          expect(c.got.frames()).toEqual([frame('to-u1'), frame('to-room'), frame('to-k1'), frame('barrier')]);
        });
  
        it('does not hand a node back its own messages', async () => {
          const [a, b] = [await fixture.node(), await fixture.node()];
          a.broker.track('channels', 'room');
          b.broker.track('channels', 'room');
          await Promise.all([a.broker.settled(), b.broker.settled()]);
          a.broker.publish({ kind: 'channels', ids: ['room'], frame: frame('from-a') });
          // b got it, so the server has fanned it out to a's subscription too, ahead of what follows.
          await b.got.wait(to('room'));
          b.broker.publish({ kind: 'channels', ids: ['room'], frame: frame('from-b') });
          await a.got.wait((d) => d.frame === frame('from-b'));
          expect(a.got.frames()).toEqual([frame('from-a'), frame('from-b')]);
          expect(b.got.frames()).toEqual([frame('from-a'), frame('from-b')]);
        });
  
        it('keeps the order of 200 messages per publisher and target, without duplicates', async () => {
          const [a, b] = [await fixture.node(), await fixture.node()];
          a.broker.track('users', 'u1');
          a.broker.track('channels', 'room');
          await a.broker.settled();
          for (let i = 0; i < 200; i++) {
            b.broker.publish({ kind: 'users', ids: ['u1'], frame: frame(`u${i}`) });
            b.broker.publish({ kind: 'channels', ids: ['room'], frame: frame(`c${i}`) });
          }
          await a.got.wait(to('u1'), 200);
          await a.got.wait(to('room'), 200);
          b.broker.publish({ kind: 'users', ids: ['u1'], frame: frame('end') });
          await a.got.wait((d) => d.frame === frame('end'));
          expect(a.got.frames(to('u1'))).toEqual([...Array.from({ length: 200 }, (_, i) => frame(`u${i}`)), frame('end')]);
          expect(a.got.frames(to('room'))).toEqual(Array.from({ length: 200 }, (_, i) => frame(`c${i}`)));
        });
  
        it('sends one message per target of a multi-target publish, sharing a key for channels', async () => {
          const [a, b] = [await fixture.node(), await fixture.node()];
          for (const id of ['c1', 'c2']) a.broker.track('channels', id);
          for (const id of ['u1', 'u2']) a.broker.track('users', id);
          await a.broker.settled();
          b.broker.publish({ kind: 'channels', ids: ['c1', 'c2', 'c1', 'c3'], frame: frame('multi') });
          b.broker.publish({ kind: 'users', ids: ['u1', 'u2'], frame: frame('users') });
          await a.got.wait((d) => d.kind === 'channels', 2);
          await a.got.wait((d) => d.kind === 'users', 2);
          const channels = a.got.got.filter((d) => d.kind === 'channels');
          expect(channels.map((d) => d.ids[0]).sort()).toEqual(['c1', 'c2']);
          expect(channels[0]?.key).toBeDefined();
          expect(channels[1]?.key).toBe(channels[0]?.key);
          // Different topics may sit on different shards, so only the set is fixed, not the order.
          const users = a.got.got.filter((d) => d.kind === 'users');
          expect(users.map((d) => d.ids).sort()).toEqual([['u1'], ['u2']]);
          expect(users.map((d) => d.key)).toEqual([undefined, undefined]);
        });
  
        it('carries control text to every other node, not back to the sender', async () => {
          const [a, b, c] = [await fixture.node(), await fixture.node(), await fixture.node()];
          const [la, lb, lc] = [new ControlLog(a.broker), new ControlLog(b.broker), new ControlLog(c.broker)];
          a.broker.sendControl('one');
          c.broker.sendControl('two');
          await Promise.all([la.wait(1), lb.wait(2), lc.wait(1)]);
          // b heard both, so the server already fanned 'one' and 'two' out to a and c (any echo
          // included) ahead of 'three'.
          b.broker.sendControl('three');
          await Promise.all([la.wait(2), lc.wait(2)]);
          expect([la.texts, [...lb.texts].sort(), lc.texts]).toEqual([['two', 'three'], ['one', 'two'], ['one', 'three']]);
        });
  
        it('returns to no target subscriptions once every target is untracked', async () => {
          const a = await fixture.node();
          const ids = Array.from({ length: 60 }, (_, i) => `id-${i}`);
          for (const id of ids) {
            a.broker.track('channels', id);
            a.broker.track('users', id);
            a.broker.track('clients', id);
          }
          // Tracked and untracked within one turn: never sent to the server at all.
          a.broker.track('channels', 'fleeting');
          a.broker.untrack('channels', 'fleeting');
          await a.broker.settled();
          expect(await fixture.targetTopics()).toHaveLength(180);
          expect(a.broker.health().topics).toBe(181);
          for (const id of ids) {
            a.broker.untrack('channels', id);
            a.broker.untrack('users', id);
            a.broker.untrack('clients', id);
          }
          await a.broker.settled();
          expect(await fixture.targetTopics()).toEqual([]);
          expect(a.broker.health().topics).toBe(1);
        });
      });
    }
  });
}

