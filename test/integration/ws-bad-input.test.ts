/**
 * Bad input over WebSocket: each gets the right error frame, the socket stays usable, and other
 * clients are unaffected. Oversized frames close with 1009; a slow reader is cut off alone.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunningHub } from '../../src/node.js';
import { HUB_FRAME_TYPES } from '../../src/protocol.js';
import { MAX_OVERSIZE_GRACE_BYTES, oversizeGraceBytes } from '../../src/transport/uws.js';
import { closeClients, connect, signToken, startHub, stopAll, type Frame, type TestClient } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

/** An authenticated client (so it may send peer frames) and a bystander it can deliver to. */
async function pair(hub: RunningHub): Promise<{ bad: TestClient; other: TestClient }> {
  const { token } = await signToken();
  const bad = await connect(hub, { token });
  const other = await connect(hub);
  return { bad, other };
}

let seq = 0;
/** The bad client still answers pings, and `other` still receives a delivery sent after the bad input. */
async function expectStillWorking(bad: TestClient, other: TestClient, sender: TestClient = bad): Promise<void> {
  const uid = `after-${++seq}`;
  bad.send({ type: 'ping', uid });
  expect(await bad.next()).toEqual({ type: 'pong', uid });
  sender.send({ type: 'client', client_ids: [other.info.client_id], data: { after: uid }, uid });
  expect(await sender.next((f) => f.uid === uid)).toEqual({ type: 'ack', uid });
  expect(await other.next()).toEqual({ after: uid });
  await other.sync();
  expect(other.pending()).toEqual([]);
}

const errorFrame = (code: string, extra: Record<string, unknown> = {}): Frame => ({
  type: 'error',
  error: { code, message: expect.any(String) },
  ...extra,
});

const invalidFrame = (paths: string[], extra: Record<string, unknown> = {}): Frame => ({
  type: 'error',
  error: {
    code: 'invalid_frame',
    message: expect.any(String),
    issues: paths.map((path) => ({ path, message: expect.any(String) })),
  },
  ...extra,
});

describe('malformed frames', () => {
  const cases: Array<[string, string, Frame]> = [
    ['invalid JSON', '{"type": "ping"', errorFrame('invalid_json')],
    ['plain text', 'hello', errorFrame('invalid_json')],
    ['an empty text frame', '', errorFrame('invalid_json')],
    ['an unknown type', JSON.stringify({ type: 'teleport' }), errorFrame('unknown_type')],
    ['a missing type', JSON.stringify({ client_ids: ['x'], data: 1 }), errorFrame('unknown_type')],
    ['a non-string type', JSON.stringify({ type: 7 }), errorFrame('unknown_type')],
    ['the number 42', '42', errorFrame('unknown_type')],
    ['an empty array', '[]', errorFrame('unknown_type')],
    ['null', 'null', errorFrame('unknown_type')],
    ['a JSON string', '"ping"', errorFrame('unknown_type')],
    ['client_ids: []', JSON.stringify({ type: 'client', client_ids: [], data: 1 }), invalidFrame(['client_ids'])],
    ['client frame without data', JSON.stringify({ type: 'client', client_ids: ['x'] }), invalidFrame(['data'])],
    ['channel frame without data', JSON.stringify({ type: 'channel', channel_ids: ['x'] }), invalidFrame(['data'])],
    ['user frame without data', JSON.stringify({ type: 'user', root_ids: ['x'] }), invalidFrame(['data'])],
    ['client_ids not an array', JSON.stringify({ type: 'client', client_ids: 'x', data: 1 }), invalidFrame(['client_ids'])],
    ['a 300-char client id', JSON.stringify({ type: 'client', client_ids: ['a'.repeat(300)], data: 1 }), invalidFrame(['client_ids.0'])],
    ['an empty channel id', JSON.stringify({ type: 'subscribe', channel_ids: [''] }), invalidFrame(['channel_ids.0'])],
    ['subscribe without channel_ids', JSON.stringify({ type: 'subscribe' }), invalidFrame(['channel_ids'])],
    ['walker context not an object', JSON.stringify({ type: 'walker', walker: 'send_chat_to_user', context: 'hi' }), invalidFrame(['context'])],
    ['walker context an array', JSON.stringify({ type: 'walker', walker: 'send_chat_to_user', context: [1] }), invalidFrame(['context'])],
    ['walker without a name', JSON.stringify({ type: 'walker' }), invalidFrame(['walker'])],
    ['a 300-char uid (not echoed)', JSON.stringify({ type: 'ping', uid: 'u'.repeat(300) }), invalidFrame(['uid'])],
    ['a non-string uid (not echoed)', JSON.stringify({ type: 'ping', uid: 5 }), invalidFrame(['uid'])],
  ];

  it('a peer payload posing as a frame the hub sends (every such type, to a client, channel and user) → invalid_frame; nothing reaches the target', async () => {
    const hub = await startHub();
    const { bad, other } = await pair(hub);
    await other.request({ type: 'subscribe', channel_ids: ['room'] });
    const targets = [{ type: 'client', client_ids: [other.info.client_id] }, { type: 'channel', channel_ids: ['room'] }, { type: 'user', root_ids: [other.info.root_id] }];
    for (const forged of HUB_FRAME_TYPES) {
      for (const target of targets) {
        bad.send({ ...target, data: { type: forged, channel_ids: ['room'], recovered: { room: false } }, uid: `forged-${forged}` });
        expect(await bad.next()).toEqual(invalidFrame(['data.type'], { uid: `forged-${forged}` }));
      }
    }
    // A payload with any other type, or none, is delivered verbatim as before.
    bad.send({ type: 'client', client_ids: [other.info.client_id], data: { type: 'chat', text: 'hi' }, uid: 'plain' });
    expect(await bad.next()).toEqual({ type: 'ack', uid: 'plain' });
    expect(await other.next()).toEqual({ type: 'chat', text: 'hi' });
    await expectStillWorking(bad, other);
  });

  it.each(cases)('%s → error frame, socket and others unaffected', async (_name, text, expected) => {
    const hub = await startHub();
    const { bad, other } = await pair(hub);
    bad.send(text);
    expect(await bad.next()).toEqual(expected);
    await expectStillWorking(bad, other);
  });

  it('a binary frame → binary_frame error', async () => {
    const hub = await startHub();
    const { bad, other } = await pair(hub);
    bad.ws.send(Buffer.from(JSON.stringify({ type: 'ping', uid: 'bin' })), { binary: true });
    expect(await bad.next()).toEqual(errorFrame('binary_frame'));
    await expectStillWorking(bad, other);
  });

  it('a binary frame sent right after change_user is answered after it, in order', async () => {
    const hub = await startHub();
    const { bad, other } = await pair(hub);
    const { token, rootId } = await signToken();
    bad.send({ type: 'change_user', token, uid: 'cu' });
    bad.ws.send(Buffer.from('binary'), { binary: true });
    bad.send({ type: 'ping', uid: 'p' });
    expect(await bad.next()).toEqual({ type: 'connection', data: { ...bad.info, root_id: rootId }, uid: 'cu' });
    expect(await bad.next()).toEqual(errorFrame('binary_frame'));
    expect(await bad.next()).toEqual({ type: 'pong', uid: 'p' });
    await expectStillWorking(bad, other);
  });
});

describe('uid salvage', () => {
  const cases: Array<[string, Record<string, unknown>, Frame]> = [
    ['unknown type', { type: 'teleport', uid: 's1' }, errorFrame('unknown_type', { uid: 's1' })],
    ['missing type', { uid: 's2', data: 1 }, errorFrame('unknown_type', { uid: 's2' })],
    ['client_ids: []', { type: 'client', client_ids: [], data: 1, uid: 's3' }, invalidFrame(['client_ids'], { uid: 's3' })],
    ['missing data', { type: 'user', root_ids: ['r'], uid: 's4' }, invalidFrame(['data'], { uid: 's4' })],
    ['bad walker context', { type: 'walker', walker: 'w', context: 3, uid: 's5' }, invalidFrame(['context'], { uid: 's5' })],
    ['unknown walker', { type: 'walker', walker: 'no_such_walker', uid: 's6' }, errorFrame('unknown_walker', { uid: 's6' })],
  ];

  it.each(cases)('%s → the error carries the uid', async (_name, frame, expected) => {
    const hub = await startHub();
    const { bad, other } = await pair(hub);
    bad.send(frame);
    expect(await bad.next()).toEqual(expected);
    await expectStillWorking(bad, other);
  });

  it('unknown walker without uid → unknown_walker error, nothing else', async () => {
    const hub = await startHub();
    const { bad, other } = await pair(hub);
    bad.send({ type: 'walker', walker: 'no_such_walker', context: {}, response: true });
    expect(await bad.next()).toEqual(errorFrame('unknown_walker'));
    await expectStillWorking(bad, other);
  });
});

describe('oversized frames', () => {
  it('a frame just over maxPayloadBytes closes that socket with 1009; others keep working', async () => {
    const hub = await startHub({ maxPayloadBytes: 4096 });
    const { token } = await signToken();
    const sender = await connect(hub, { token });
    const big = await connect(hub, { token });
    const other = await connect(hub);
    const head = JSON.stringify({ type: 'client', client_ids: [other.info.client_id], data: '' });
    const padding = (size: number): string => 'x'.repeat(size - head.length);
    const frameOf = (size: number): string => head.replace('"data":""', `"data":"${padding(size)}"`);
    const exact = frameOf(4096);
    expect(Buffer.byteLength(exact)).toBe(4096);
    big.send(exact);
    expect(await other.next()).toBe(padding(4096));

    const over = frameOf(4097);
    expect(Buffer.byteLength(over)).toBe(4097);
    big.send(over);
    expect((await big.closed).code).toBe(1009);
    expect(hub.hub.counts().clients).toBe(2);
    await expectStillWorking(sender, other);
  });

  // uWS buffers a frame whole before the hub sees it, so the hub accepts frames up to the grace
  // (min(maxPayloadBytes, 64 KiB)) over the limit only to close them with 1009; anything larger is
  // cut by uWS before it is buffered (no close frame: 1006), which keeps per-socket memory bounded.
  it('the documented grace is min(maxPayloadBytes, 64 KiB)', () => {
    expect(MAX_OVERSIZE_GRACE_BYTES).toBe(64 * 1024);
    expect(oversizeGraceBytes(4096)).toBe(4096);
    expect(oversizeGraceBytes(64 * 1024)).toBe(64 * 1024);
    expect(oversizeGraceBytes(16 * 1024 * 1024)).toBe(64 * 1024);
  });

  it('a frame at the grace bound (limit + min(limit, 64 KiB)) still closes with 1009', async () => {
    const hub = await startHub({ maxPayloadBytes: 4096 });
    const big = await connect(hub);
    const other = await connect(hub);
    const { token } = await signToken();
    const sender = await connect(hub, { token });
    big.send(pingOfSize(4096 + 4096));
    expect(await big.closed).toEqual({ code: 1009, reason: 'frame exceeds 4096 bytes' });
    await expectStillWorking(sender, other);
  });

  it('a frame beyond the grace bound is cut without buffering, and nobody else notices', async () => {
    const hub = await startHub({ maxPayloadBytes: 4096 });
    const big = await connect(hub);
    const other = await connect(hub);
    const { token } = await signToken();
    const sender = await connect(hub, { token });
    big.send(pingOfSize(4096 + 4096 + 1));
    expect(await big.closed).toEqual({ code: 1006, reason: '' });
    await expectStillWorking(sender, other);
    expect(hub.hub.counts().clients).toBe(2);
  });
});

function pingOfSize(size: number): string {
  const head = JSON.stringify({ type: 'ping', pad: '' });
  const frame = head.replace('"pad":""', `"pad":"${'p'.repeat(size - head.length)}"`);
  expect(Buffer.byteLength(frame)).toBe(size);
  return frame;
}

describe('bursts', () => {
  it('a burst of bad frames from one client does not disturb another', async () => {
    const hub = await startHub();
    const { bad, other } = await pair(hub);
    const { token } = await signToken();
    const sender = await connect(hub, { token });
    const junk = ['{', '42', '{"type":"nope"}', '{"type":"client","client_ids":[]}', '{"type":"ping","uid":7}'];
    const N = 200;
    for (let i = 0; i < N; i++) {
      if (i % 10 === 0) bad.ws.send(Buffer.from('bin'), { binary: true });
      else bad.send(junk[i % junk.length] as string);
      if (i % 4 === 0) sender.send({ type: 'client', client_ids: [other.info.client_id], data: { i } });
    }
    for (let i = 0; i < N; i++) expect(await bad.next()).toMatchObject({ type: 'error' });
    for (let i = 0; i < N; i += 4) expect(await other.next()).toEqual({ i });
    await expectStillWorking(bad, other, sender);
  });
});

describe('slow reader', () => {
  it('a paused reader over maxBackpressureBytes is disconnected; a healthy subscriber gets every frame in order', async () => {
    const maxBackpressureBytes = 1024 * 1024;
    const hub = await startHub({ maxBackpressureBytes, maxPayloadBytes: 1024 * 1024 });
    const reader = await connect(hub, { query: '?channel_id=firehose' });
    const healthy = await connect(hub, { query: '?channel_id=firehose' });
    const { token } = await signToken();
    const sender = await connect(hub, { token });
    expect(hub.hub.counts()).toEqual({ clients: 3, channels: 2, users: 2 });
    const socket = (reader.ws as unknown as { _socket: Socket })._socket;
    socket.pause();

    // Unread bytes can sit in the kernel only up to the reader's receive buffer plus the hub's send
    // buffer (at most tcp_rmem max + tcp_wmem max); past that uWS holds them, and past
    // maxBackpressureBytes it cuts the reader. So this many bytes always cut it, whatever the kernel
    // autotunes: a fixed frame count, not a loop that watches for the close. Each frame is awaited
    // at the healthy subscriber before the next is sent, so it is never more than one frame (half
    // of maxBackpressureBytes) behind.
    const kernelBytes = sysctlMax('/proc/sys/net/ipv4/tcp_rmem') + sysctlMax('/proc/sys/net/ipv4/tcp_wmem');
    const chunk = 'y'.repeat(maxBackpressureBytes / 2);
    const frames = Math.ceil((kernelBytes + maxBackpressureBytes) / chunk.length) + 2;
    expect(frames).toBeLessThan(200);
    try {
      for (let n = 0; n < frames; n++) {
        sender.send({ type: 'channel', channel_ids: ['firehose'], data: { n, chunk } });
        expect(await healthy.next()).toEqual({ n, chunk });
      }
      expect(hub.hub.registry.get(reader.info.client_id)).toBeUndefined();
      expect(hub.hub.counts()).toEqual({ clients: 2, channels: 2, users: 2 });
    } finally {
      socket.resume();
    }
    expect((await reader.closed).code).toBe(1006);

    await healthy.sync();
    expect(healthy.pending()).toEqual([]);
    expect(await sender.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
  });
});

/** The largest value of a `min default max` sysctl such as tcp_rmem, bytes. */
function sysctlMax(path: string): number {
  const max = Number(readFileSync(path, 'utf8').trim().split(/\s+/)[2]);
  expect(max).toBeGreaterThan(0);
  return max;
}
