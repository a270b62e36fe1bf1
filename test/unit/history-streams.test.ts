/**
 * HistoryStreams' ordering logic (history/streams.ts), with the Redis read replaced by a function
 * the test answers: in-order delivery, duplicates dropped, a gap filled before anything newer
 * (publications arriving meanwhile wait), an unfillable gap or a new epoch told as recovered: false,
 * and a recovering socket's buffer merged after its read's top. The same paths against real Redis
 * are in test/integration/history-cluster.suite.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../src/broker/broker.js';
import { publicationFrame, type Position } from '../../src/history/history.js';
import type { StreamRead } from '../../src/history/redis.js';
import { HistoryStreams } from '../../src/history/streams.js';

const C = 'chat:x';
const pub = (offset: number, epoch = 'E1'): Delivery => ({ kind: 'channels', ids: [C], frame: publicationFrame(C, { offset, epoch }, `{"n":${offset}}`), position: { offset, epoch } });

function setup() {
  const sent: string[] = [];
  const fills: Array<{ since: Position; answer: (read: StreamRead | null) => void }> = [];
  const streams = new HistoryStreams();
  streams.start({
    deliver: (d) => {
      sent.push(d.position ? `${d.position.epoch}:${d.position.offset}` : `notice:${d.frame}`);
      return 1;
    },
    fill: (_channel, since) => new Promise<StreamRead>((resolve, reject) => fills.push({ since, answer: (read) => (read === null ? reject(new Error('down')) : resolve(read)) })),
    lost: () => undefined,
  });
  streams.track(C);
  return { sent, fills, streams };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('HistoryStreams', () => {
  it('delivers in order and drops what it already delivered', () => {
    const { sent, streams } = setup();
    for (const o of [1, 2, 2, 3, 1]) streams.live(pub(o));
    expect(sent).toEqual(['E1:1', 'E1:2', 'E1:3']);
  });

  it('fills a gap from history before anything newer; what arrives meanwhile waits its turn', async () => {
    const { sent, fills, streams } = setup();
    streams.live(pub(1));
    streams.live(pub(4));
    streams.live(pub(5));
    expect(sent).toEqual(['E1:1']);
    expect(fills.map((f) => f.since)).toEqual([{ offset: 1, epoch: 'E1' }]);
    fills[0]?.answer({ position: { offset: 5, epoch: 'E1' }, publications: [2, 3, 4, 5].map((o) => ({ offset: o, data: `{"n":${o}}` })) });
    await flush();
    expect(sent).toEqual(['E1:1', 'E1:2', 'E1:3', 'E1:4', 'E1:5']);
  });

  it('a gap history no longer holds (or a failed read) is told as recovered: false, then the stream goes on', async () => {
    const { sent, fills, streams } = setup();
    streams.live(pub(1));
    streams.live(pub(3));
    fills[0]?.answer(null);
    await flush();
    expect(sent).toHaveLength(3);
    expect(sent[1]).toBe(`notice:{"type":"subscribed","channel_ids":["${C}"],"positions":{"${C}":{"offset":2,"epoch":"E1"}},"recovered":{"${C}":false}}`);
    expect(sent[2]).toBe('E1:3');
  });

  it('a new epoch is told before its first publication', () => {
    const { sent, streams } = setup();
    streams.live(pub(7));
    streams.live(pub(1, 'E2'));
    expect(sent[0]).toBe('E1:7');
    expect(sent[1]).toContain('"recovered":{"chat:x":false}');
    expect(sent[1]).toContain('"offset":0,"epoch":"E2"');
    expect(sent[2]).toBe('E2:1');
  });

  it('a recovering socket gets, after its read, only the buffered publications past the top of its read', () => {
    const { streams } = setup();
    const recovery = streams.startRecovery(C);
    for (const o of [1, 2, 3, 4]) streams.live(pub(o));
    streams.endRecovery(C, recovery, { offset: 2, epoch: 'E1' });
    expect(recovery.after({ offset: 2, epoch: 'E1' }).map((f) => JSON.parse(f).offset)).toEqual([3, 4]);
    // Another epoch than the read's: nothing buffered is covered by the read.
    expect(recovery.after({ offset: 9, epoch: 'E0' })).toHaveLength(4);
  });

  it('keeps nothing for a channel the node left, and delivers untracked channels as they come', () => {
    const { sent, streams } = setup();
    streams.live(pub(1));
    streams.forget(C);
    expect(streams.size).toBe(0);
    streams.live(pub(5));
    expect(sent).toEqual(['E1:1', 'E1:5']);
    expect(streams.size).toBe(0);
  });
});
