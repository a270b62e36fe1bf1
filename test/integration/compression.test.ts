/** permessage-deflate: negotiated with clients that offer it, plain frames for those that do not. */
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { post, signToken, startHub, stopAll } from '../helpers.js';

const sockets = new Set<WebSocket>();
afterEach(async () => {
  await Promise.all(
    [...sockets].map(async (ws) => {
      if (ws.readyState === WebSocket.CLOSED) return;
      const closed = once(ws, 'close');
      ws.close();
      await closed;
    }),
  );
  sockets.clear();
});
afterAll(stopAll);

interface Peer {
  readonly ws: WebSocket;
  /** The TCP socket under the WebSocket: its bytesRead is what crossed the wire, frames and all. */
  readonly tcp: Socket;
  /** Resolves with the next text frame. */
  next(): Promise<Record<string, unknown>>;
}

async function open(port: number, token: string, perMessageDeflate: boolean): Promise<Peer> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/websocket`, { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate });
  sockets.add(ws);
  const queued: Array<Record<string, unknown>> = [];
  const waiting: Array<(f: Record<string, unknown>) => void> = [];
  ws.on('message', (raw: Buffer) => {
    const frame = JSON.parse(raw.toString()) as Record<string, unknown>;
    const w = waiting.shift();
    if (w) w(frame);
    else queued.push(frame);
  });
  // 'open' follows 'upgrade' in the same tick: listen for both before awaiting either.
  const upgraded = once(ws, 'upgrade') as Promise<[{ socket: Socket }]>;
  const opened = once(ws, 'open');
  const [[res]] = await Promise.all([upgraded, opened]);
  const next = () => {
    const f = queued.shift();
    return f ? Promise.resolve(f) : new Promise<Record<string, unknown>>((resolve) => waiting.push(resolve));
  };
  expect(await next()).toMatchObject({ type: 'connection' });
  return { ws, tcp: res.socket, next };
}

/** A chat line of the size and shape the demo sends: repetitive JSON text compresses well. */
const message = Array.from({ length: 40 }, (_, i) => `line ${i}: the walker hub says hello to everyone in the room`).join('\n');

describe('compression', () => {
  for (const mode of ['shared', 'dedicated'] as const) {
    it(`${mode}: deflates for a client that offers it, plain for one that does not, same notification for both`, async () => {
      const hub = await startHub({ compression: mode });
      const { token, rootId } = await signToken();
      const deflating = await open(hub.port, token, true);
      const plain = await open(hub.port, token, false);
      expect(deflating.ws.extensions).toContain('permessage-deflate');
      expect(plain.ws.extensions).toBe('');

      const before = [deflating.tcp.bytesRead, plain.tcp.bytesRead];
      const sent = await post(hub, '/walker/send_chat_to_user', { root_id: rootId, message }, { token });
      expect(sent.status).toBe(200);
      const [a, b] = await Promise.all([deflating.next(), plain.next()]);
      expect(a).toEqual({ type: 'chat', data: { message } });
      expect(b).toEqual(a);
      const onWire = [deflating.tcp.bytesRead - (before[0] ?? 0), plain.tcp.bytesRead - (before[1] ?? 0)] as const;
      // Uncompressed, the frame carries the whole message; deflated, a small fraction of it.
      expect(onWire[1]).toBeGreaterThan(message.length);
      expect(onWire[0]).toBeLessThan(onWire[1] / 4);
    });
  }

  it('off (the default): a client offering deflate is served plain frames', async () => {
    const hub = await startHub();
    const { token } = await signToken();
    const peer = await open(hub.port, token, true);
    expect(peer.ws.extensions).toBe('');
    peer.ws.send(JSON.stringify({ type: 'ping', uid: 'p' }));
    expect(await peer.next()).toMatchObject({ type: 'pong', uid: 'p' });
  });
});
