/**
 * Multi-channel notifications from another node arrive once per channel; the receiving node serves
 * each connection once without remembering which connections it served (hub/delivery.ts). Two real
 * hubs over one real Redis: 1,100 two-channel notifications to 2,000 sockets that are in both
 * channels, each socket gets each exactly once, and the receiving process's heap after a full GC
 * grows by at most 8 MB (remembering served connections per notification held ~40 MB here).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { afterAll, expect, it } from 'vitest';
import { REDIS_URL, testPrefix, withService } from '../broker-helpers.js';
import { closeClients, connect, startHub, stopAll, wsUrl } from '../helpers.js';
import type { RunningHub } from '../../src/node.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

afterAll(async () => {
  await closeClients();
  await stopAll();
});

const MEMBERS = 2000;
const NOTIFICATIONS = 1100;

/** A socket that only counts frames (no parsing per frame, so 2.2 M frames stay cheap). */
class Counter {
  data = 0;
  markers = 0;
  private onMarker: (() => void) | null = null;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const text = raw.toString();
      if (text.startsWith('{"m"')) {
        this.markers++;
        this.onMarker?.();
      } else if (text.startsWith('{"n"')) this.data++;
    });
  }
  marker(): Promise<void> {
    if (this.markers > 0) return Promise.resolve();
    return new Promise((resolve) => (this.onMarker = resolve));
  }
}

async function member(hub: RunningHub, channels: string[]): Promise<Counter> {
  const ws = new WebSocket(wsUrl(hub), { skipUTF8Validation: true, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    // The first frame is the connection frame; subscribe, then wait for `subscribed`.
    ws.once('message', () => {
      ws.send(JSON.stringify({ type: 'subscribe', channel_ids: channels }));
      ws.once('message', () => resolve());
    });
  });
  return new Counter(ws);
}

withService('multi-channel dedupe memory over Redis', 'REDIS_URL', REDIS_URL, (url) => {
  it(`serves ${NOTIFICATIONS} two-channel notifications to ${MEMBERS} sockets once each, holding at most 8 MB`, async () => {
    const prefix = testPrefix();
    const config = { redisUrl: url, redisPrefix: prefix, revocationSyncMs: 0, peerEvents: 'public' as const, frameRate: 0, maxConnectionsPerIp: 0 };
    const a = await startHub(config);
    const b = await startHub(config);
    const channels = [`${prefix}room-1`, `${prefix}room-2`];
    const members: Counter[] = [];
    for (let i = 0; i < MEMBERS; i += 100) members.push(...(await Promise.all(Array.from({ length: 100 }, () => member(b, channels)))));
    await b.broker.settled();
    const sender = await connect(a);

    gc();
    const before = process.memoryUsage().heapUsed;
    for (let n = 0; n < NOTIFICATIONS; n++) sender.send({ type: 'channel', channel_ids: channels, data: { n } });
    // Per publisher and target order: once the marker has arrived, every earlier copy has too.
    sender.send({ type: 'channel', channel_ids: channels, data: { m: 1 } });
    await Promise.all(members.map((m) => m.marker()));
    await sender.sync();
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    console.log(`cluster-dedupe-memory: heap grew ${(grown / 1024 / 1024).toFixed(1)} MB after ${NOTIFICATIONS} notifications to ${MEMBERS} members`);

    expect(members.every((m) => m.data === NOTIFICATIONS && m.markers === 1)).toBe(true);
    expect(grown).toBeLessThan(8 * 1024 * 1024);
    await Promise.all(
      members.map(
        (m) =>
          new Promise<void>((resolve) => {
            m.ws.once('close', () => resolve());
            m.ws.close();
          }),
      ),
    );
  }, 240_000); // 2.2 M frames: about 30 s on a quiet 2-core machine, 85 s while other jobs share it
});
