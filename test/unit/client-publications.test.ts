/**
 * The SDK's handling of publication frames, driven by a fake socket (the hub never sends a
 * duplicate, so only a fake can show the defensive drop): unwrapped data, positions, duplicates.
 */
import { describe, expect, it } from 'vitest';
import { connect, type Frame, type SocketLike } from '../../src/client/index.js';

class FakeSocket implements SocketLike {
  /** Resolves with the next socket the SDK opens. */
  static opened: (socket: FakeSocket) => void = () => undefined;
  readyState = 1;
  readonly sent: Array<Record<string, unknown>> = [];
  onopen: ((event: never) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: never) => void) | null = null;
  onerror: ((event: never) => void) | null = null;
  constructor() {
    FakeSocket.opened(this);
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(): void {
    this.readyState = 3;
  }
  receive(frame: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

async function connected() {
  const opened = new Promise<FakeSocket>((resolve) => (FakeSocket.opened = resolve));
  const c = connect('http://127.0.0.1:1', { WebSocket: FakeSocket, pingIntervalMs: 0, reconnect: false });
  const socket = await opened;
  socket.receive({ type: 'connection', data: { client_id: 'c1', root_id: 'r1', channel_id: 'own' } });
  await c.ready;
  return { c, socket };
}

describe('publication frames in the SDK', () => {
  it('delivers the data as a plain notification, once per offset of an epoch', async () => {
    const { c, socket } = await connected();
    const joined = c.subscribe(['chat:a']);
    const uid = socket.sent[0]?.['uid'];
    socket.receive({ type: 'subscribed', channel_ids: ['own', 'chat:a'], positions: { 'chat:a': { offset: 2, epoch: 'e1' } }, uid });
    await joined;
    const got: Frame[] = [];
    c.on('msg', (f) => got.push(f));
    const publication = (offset: number, epoch: string, n: number) => socket.receive({ type: 'publication', channel_id: 'chat:a', offset, epoch, data: { type: 'msg', n } });
    publication(2, 'e1', 0); // at the position the subscribe reported: already seen
    publication(3, 'e1', 3);
    publication(3, 'e1', 3); // a duplicate
    publication(4, 'e1', 4);
    publication(1, 'e2', 1); // a new epoch starts again from 1
    expect(got).toEqual([3, 4, 1].map((n) => ({ type: 'msg', n })));
    c.close();
  });

  it('a publication-shaped payload for a channel this connection is not in is delivered as it came', async () => {
    const { c, socket } = await connected();
    const got: Frame[] = [];
    c.on('publication', (f) => got.push(f));
    const forged = { type: 'publication', channel_id: 'elsewhere', offset: 9, epoch: 'x', data: { type: 'msg' } };
    socket.receive(forged);
    expect(got).toEqual([forged]);
    c.close();
  });
});
