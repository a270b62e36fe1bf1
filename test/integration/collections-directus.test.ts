/**
 * The Directus seed's full code sample (seeds/002, "Getting Started With WebSockets") replayed
 * against a hub serving the example collections/messages.ts, with a plain `ws` client sending
 * exactly the sample's frames (no uid): auth, subscribe → init, three creates (each an `items`
 * reply and a `create` event), and the latest item read with sort "-date_created", limit 1.
 */
import { resolve } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signToken, startHub, stopAll } from '../helpers.js';

const COLLECTIONS = resolve(import.meta.dirname, '../../collections');

/** A plain socket whose frames are awaited in order (the hub's own `connection` frame is skipped, as the sample ignores it). */
async function plainSocket(url: string) {
  const ws = new WebSocket(url);
  const queue: Array<Record<string, unknown>> = [];
  const waiting: Array<(f: Record<string, unknown>) => void> = [];
  ws.on('message', (raw) => {
    const frame = JSON.parse(raw.toString()) as Record<string, unknown>;
    if (frame['type'] === 'connection') return;
    const w = waiting.shift();
    if (w) w(frame);
    else queue.push(frame);
  });
  await new Promise<void>((ok, fail) => {
    ws.once('open', () => ok());
    ws.once('error', fail);
  });
  return {
    ws,
    send: (frame: unknown) => ws.send(JSON.stringify(frame)),
    next: () => new Promise<Record<string, unknown>>((ok) => (queue.length > 0 ? ok(queue.shift() as Record<string, unknown>) : waiting.push(ok))),
  };
}

afterEach(async () => {
  await stopAll();
});

it('runs the Directus sample: auth, subscribe → init, three creates with replies and events, latest by -date_created', async () => {
  const hub = await startHub({ collectionsDir: COLLECTIONS });
  const { token: access_token } = await signToken();
  const connection = await plainSocket(`ws://127.0.0.1:${hub.port}/websocket`);
  try {
    connection.send({ type: 'auth', access_token });
    expect(await connection.next()).toEqual({ type: 'auth', status: 'ok' });

    connection.send({ type: 'subscribe', collection: 'messages', query: { fields: ['*'] } });
    expect(await connection.next()).toEqual({ type: 'subscription', event: 'init', data: [] });

    const sent = [
      ['Hello World!', 'Ben'],
      ['Hello Universe!', 'Rijk'],
      ['Hello Everyone Everywhere All At Once!', 'Kevin'],
    ] as const;
    const created: Array<Record<string, unknown>> = [];
    for (const [text, user] of sent) {
      connection.send({ type: 'items', collection: 'messages', action: 'create', data: { text, user } });
      const frames = [await connection.next(), await connection.next()];
      const reply = frames.find((f) => f['type'] === 'items') as { data: Record<string, unknown> };
      const event = frames.find((f) => f['type'] === 'subscription') as { event: string; data: Array<Record<string, unknown>> };
      expect(reply.data).toMatchObject({ text, user, id: expect.any(String), date_created: expect.any(String), date_updated: expect.any(String) });
      expect(event).toEqual({ type: 'subscription', event: 'create', data: [reply.data] });
      created.push(reply.data);
    }
    // Creation times are ISO 8601 and strictly increasing, even within one millisecond.
    const times = created.map((c) => c['date_created'] as string);
    expect([...times].sort()).toEqual(times);
    expect(new Set(times).size).toBe(3);
    expect(Number.isNaN(Date.parse(times[0] as string))).toBe(false);

    connection.send({ type: 'items', collection: 'messages', action: 'read', query: { limit: 1, sort: '-date_created' } });
    expect(await connection.next()).toEqual({ type: 'items', data: [created[2]] });
  } finally {
    connection.ws.close();
  }
});
