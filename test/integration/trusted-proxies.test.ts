/**
 * Behind a trusted proxy each forwarded client has its own per-IP budgets (connections, login
 * throttle) and its own `ip` on log lines; from any other peer the forwarding headers change
 * nothing. The "proxy" is this test on 127.0.0.1; 127.0.0.2 is a peer that is not trusted.
 */
import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { defineWalker, z } from '../../src/index.js';
import { createLogger } from '../../src/log.js';
import type { RunningHub } from '../../src/node.js';
import { closeClients, connect, startHub, stopAll, walkersFrom, wsUrl } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

const UNTRUSTED_PEER = '127.0.0.2';

const opened: WebSocket[] = [];
afterEach(async () => {
  await Promise.all(
    opened.splice(0).map((ws) => {
      if (ws.readyState === WebSocket.CLOSED) return undefined;
      const closed = new Promise((resolve) => ws.once('close', resolve));
      ws.close();
      return closed;
    }),
  );
});

/** An upgrade with these headers from `localAddress`: the HTTP status (101 when it opened). */
function upgrade(hub: RunningHub, headers: Record<string, string>, localAddress = '127.0.0.1'): Promise<number> {
  const ws = new WebSocket(wsUrl(hub), { headers, localAddress });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      opened.push(ws);
      resolve(101);
    });
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
  });
}

/** POSTs JSON with these headers from `localAddress` (a fresh connection each time): the status. */
function postFrom(hub: RunningHub, path: string, body: unknown, headers: Record<string, string>, localAddress = '127.0.0.1'): Promise<number> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: hub.port, path, method: 'POST', localAddress, agent: false, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const xff = (value: string) => ({ 'X-Forwarded-For': value });
const wrong = { email: 'nobody@example.com', password: 'wrong password' };

describe('connections per IP behind a trusted proxy', () => {
  it('distinct forwarded clients each have their own budget; one forwarded address is still capped', async () => {
    const hub = await startHub({ trustedProxies: '127.0.0.1, 10.0.0.0/8', maxConnectionsPerIp: 5 });
    // Six distinct clients through one proxy address: more than one address's budget.
    for (let i = 1; i <= 6; i++) expect(await upgrade(hub, xff(`198.51.100.${i}`))).toBe(101);
    // Four more from 198.51.100.1 fill its five, whatever the client wrote left of the proxy's entry
    // or however the proxy spells it; a trusted second proxy (10.0.0.7) in the chain is skipped.
    for (const chain of ['6.6.6.6, 198.51.100.1', '198.51.100.1, 10.0.0.7', '::ffff:198.51.100.1', '198.51.100.1:4711']) {
      expect(await upgrade(hub, xff(chain))).toBe(101);
    }
    expect(await upgrade(hub, xff('198.51.100.1'))).toBe(429);
    expect(await upgrade(hub, xff('7.7.7.7, 198.51.100.1'))).toBe(429);
    // RFC 7239 is read only when configured: here it is no way around the cap.
    expect(await upgrade(hub, { ...xff('198.51.100.1'), Forwarded: 'for=203.0.113.9' })).toBe(429);
    // A malformed header from the trusted proxy counts against the proxy's own address.
    expect(await upgrade(hub, xff('not an address'))).toBe(101);
  });

  it('from a peer that is not trusted, X-Forwarded-For is ignored: the peer address is capped', async () => {
    const hub = await startHub({ trustedProxies: '127.0.0.1', maxConnectionsPerIp: 2 });
    expect(await upgrade(hub, xff('198.51.100.1'), UNTRUSTED_PEER)).toBe(101);
    expect(await upgrade(hub, xff('198.51.100.2'), UNTRUSTED_PEER)).toBe(101);
    expect(await upgrade(hub, xff('198.51.100.3'), UNTRUSTED_PEER)).toBe(429);
  });

  it('with no trusted proxies, 127.0.0.1 spoofing X-Forwarded-For is capped as 127.0.0.1', async () => {
    const hub = await startHub({ maxConnectionsPerIp: 2 });
    expect(await upgrade(hub, xff('198.51.100.1'))).toBe(101);
    expect(await upgrade(hub, xff('198.51.100.2'))).toBe(101);
    expect(await upgrade(hub, xff('198.51.100.3'))).toBe(429);
  });

  it('Forwarded, when configured, including a quoted IPv6 with a port', async () => {
    const hub = await startHub({ trustedProxies: '127.0.0.1', forwardedHeader: 'forwarded', maxConnectionsPerIp: 1 });
    expect(await upgrade(hub, { Forwarded: 'for="[2001:db8::1]:1234";proto=https' })).toBe(101);
    expect(await upgrade(hub, { Forwarded: 'for=198.51.100.1, for="[2001:DB8::0:1]"' })).toBe(429);
    expect(await upgrade(hub, { Forwarded: 'for=198.51.100.2' })).toBe(101);
    // X-Forwarded-For is not what this proxy writes: ignored, so this counts as 127.0.0.1.
    expect(await upgrade(hub, xff('198.51.100.3'))).toBe(101);
    expect(await upgrade(hub, xff('198.51.100.4'))).toBe(429);
  });
});

describe('login throttle behind a trusted proxy', () => {
  it('counts per forwarded address; from an untrusted peer the header changes nothing', async () => {
    const hub = await startHub({ trustedProxies: '127.0.0.1', authRatePerIp: 2, authRatePerAccount: 1000 });
    for (let i = 0; i < 2; i++) expect(await postFrom(hub, '/user/login', wrong, xff('198.51.100.1'))).toBe(400);
    expect(await postFrom(hub, '/user/login', wrong, xff('6.6.6.6, 198.51.100.1'))).toBe(429);
    // Another client behind the same proxy still has its budget.
    expect(await postFrom(hub, '/user/login', wrong, xff('198.51.100.2'))).toBe(400);

    for (let i = 0; i < 2; i++) expect(await postFrom(hub, '/user/login', wrong, xff(`203.0.113.${i}`), UNTRUSTED_PEER)).toBe(400);
    expect(await postFrom(hub, '/user/login', wrong, xff('203.0.113.99'), UNTRUSTED_PEER)).toBe(429);
  });
});

describe('logs behind a trusted proxy', () => {
  it('request and connection log lines carry the forwarded ip', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger('debug', 'json', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    const walkers = walkersFrom({
      boom: defineWalker({
        input: z.object({}),
        auth: false,
        methods: ['websocket', 'post'],
        run: () => {
          throw new Error('boom');
        },
      }),
    });
    const hub = await startHub({ trustedProxies: '127.0.0.1', frameRate: 0 }, { walkers, log });
    expect(await postFrom(hub, '/walker/boom', {}, xff('198.51.100.7'))).toBe(500);
    expect(await postFrom(hub, '/walker/boom', {}, xff('198.51.100.8'), UNTRUSTED_PEER)).toBe(500);
    const rest = lines.filter((l) => l['msg'] === 'walker threw');
    expect(rest.map((l) => l['ip'])).toEqual(['198.51.100.7', UNTRUSTED_PEER]);
    expect(rest.every((l) => typeof l['request_id'] === 'string')).toBe(true);

    const client = await connect(hub, { headers: xff('2001:db8::9') });
    const replied = client.next('walker');
    client.send({ type: 'walker', walker: 'boom', uid: 'u1' });
    expect(await replied).toMatchObject({ status: 500 });
    const socketLine = lines.filter((l) => l['msg'] === 'walker threw').at(-1);
    expect(socketLine).toMatchObject({ ip: '2001:db8::9', client_id: expect.any(String) });
  });
});

/** A raw HTTP/1.1 login over TCP from 127.0.0.1 (optionally after a PROXY v2 header): the status. */
function rawLogin(hub: RunningHub, headerLines: string[], proxyV2Source?: [number, number, number, number]): Promise<number> {
  const body = JSON.stringify(wrong);
  const head = ['POST /user/login HTTP/1.1', 'Host: hub', 'Connection: close', 'Content-Type: application/json', `Content-Length: ${body.length}`, ...headerLines, '', ''].join('\r\n');
  // PROXY v2: signature, version 2 + PROXY, TCP over IPv4, 12 address bytes (source, destination, ports).
  const proxy = proxyV2Source ? Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0, 12, ...proxyV2Source, 127, 0, 0, 1, 0x30, 0x39, 0x1f, 0x90]) : Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(hub.port, '127.0.0.1', () => socket.write(Buffer.concat([proxy, Buffer.from(head + body)])));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
  });
}

describe('raw requests from a trusted proxy', () => {
  it('several X-Forwarded-For lines are one list: a client line before the proxy line is no escape', async () => {
    const hub = await startHub({ trustedProxies: '127.0.0.1', authRatePerIp: 1, authRatePerAccount: 1000 });
    expect(await rawLogin(hub, ['X-Forwarded-For: 6.6.6.1', 'X-Forwarded-For: 198.51.100.1'])).toBe(400);
    expect(await rawLogin(hub, ['X-Forwarded-For: 6.6.6.2', 'X-Forwarded-For: 198.51.100.1'])).toBe(429);
  });

  it('a PROXY v2 source from a trusted peer is the client address', async () => {
    const hub = await startHub({ trustedProxies: '127.0.0.1', authRatePerIp: 1, authRatePerAccount: 1000 });
    expect(await rawLogin(hub, [], [203, 0, 113, 7])).toBe(400);
    expect(await rawLogin(hub, [], [203, 0, 113, 7])).toBe(429);
    expect(await rawLogin(hub, [], [203, 0, 113, 8])).toBe(400);
  });
});
