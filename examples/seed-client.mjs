#!/usr/bin/env node
// Replays every example of the jac-cloud WebSocket document against a running hub, using only the
// `ws` client and Node's own crypto (to sign test tokens with the hub's HS256 secret).
//
//   WALKER_HUB_JWT_SECRET=... node examples/seed-client.mjs [http://127.0.0.1:8000]
//
// Prints one line per example and exits non-zero on the first mismatch (or after 10 s).
import { createHmac, randomBytes } from 'node:crypto';
import WebSocket from 'ws';

const base = (process.argv[2] ?? 'http://127.0.0.1:8000').replace(/\/$/, '');
const wsBase = base.replace(/^http/, 'ws');
const secret = process.env.WALKER_HUB_JWT_SECRET;
if (!secret) {
  console.error('set WALKER_HUB_JWT_SECRET to the hub secret (the examples need authenticated users)');
  process.exit(2);
}
const PUBLIC_ROOT = 'n::000000000000000000000001';
setTimeout(() => fail('timed out after 10 s'), 10_000).unref();

function fail(message) {
  console.error(`FAIL ${message}`);
  process.exit(1);
}
function check(condition, message) {
  if (!condition) fail(message);
  console.log(`ok   ${message}`);
}

function sign(claims) {
  const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}
function newUser(name) {
  const root_id = `n::${randomBytes(12).toString('hex')}`;
  return { root_id, token: sign({ sub: name, root_id }) };
}

/** Opens a socket, queues frames, resolves after the first `connection` frame. */
async function open(path = '/websocket', options = {}) {
  const ws = new WebSocket(`${wsBase}${path}`, options);
  const queue = [];
  const waiting = [];
  ws.on('message', (raw) => {
    const frame = JSON.parse(raw.toString());
    const i = waiting.findIndex((w) => w.match(frame));
    if (i >= 0) waiting.splice(i, 1)[0].resolve(frame);
    else queue.push(frame);
  });
  const next = (type) =>
    new Promise((resolve) => {
      const i = queue.findIndex((f) => f.type === type);
      if (i >= 0) return resolve(queue.splice(i, 1)[0]);
      waiting.push({ match: (f) => f.type === type, resolve });
    });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const client = { ws, next, send: (frame) => ws.send(JSON.stringify(frame)) };
  client.info = (await next('connection')).data;
  return client;
}

const alice = newUser('alice');
const bob = newUser('bob');

// CONNECTION — not authenticated (plain JS WebSocket style).
const anon = await open();
check(anon.info.root_id === PUBLIC_ROOT && anon.info.client_id && anon.info.channel_id, 'unauthenticated connect gets a connection frame with the public root');

// CONNECTION — ?channel_id=anystring
const grouped = await open('/websocket?channel_id=anystring');
check(grouped.info.channel_id === 'anystring', 'channel_id query parameter is honoured');

// AUTHENTICATED — JS library: change_user with "Bearer <token>".
const a = await open();
a.send({ type: 'change_user', token: `Bearer ${alice.token}` });
check((await a.next('connection')).data.root_id === alice.root_id, 'change_user switches to the token user');

// AUTHENTICATED — npm ws library: Authorization header.
const b = await open('/websocket', { headers: { Authorization: `Bearer ${bob.token}` } });
check(b.info.root_id === bob.root_id, 'Authorization header authenticates at connect');

// TRIGGER CONNECTION EVENT
b.send({ type: 'connection' });
check((await b.next('connection')).data.client_id === b.info.client_id, 'connection event re-sends the connection info');

// TRIGGER CLIENT EVENT (direct chat)
b.send({ type: 'client', client_ids: [a.info.client_id], data: { type: 'chat', data: { any_field: 'any_value' } } });
check((await a.next('chat')).data.any_field === 'any_value', 'client event reaches the target client');

// TRIGGER CHANNEL EVENT (group chat)
b.send({ type: 'channel', channel_ids: ['anystring'], data: { type: 'chat', data: { any_field: 'group' } } });
check((await grouped.next('chat')).data.any_field === 'group', 'channel event reaches the channel');

// TRIGGER USER EVENT (all of a user's clients)
const a2 = await open('/websocket', { headers: { Authorization: `Bearer ${alice.token}` } });
b.send({ type: 'user', root_ids: [alice.root_id], data: { type: 'chat', data: { any_field: 'user' } } });
check((await a.next('chat')).data.any_field === 'user' && (await a2.next('chat')).data.any_field === 'user', 'user event reaches every client of the user');

// TRIGGER WALKER EVENT — the seed's three chat walkers, with response: true.
b.send({ type: 'walker', walker: 'send_chat_to_user', response: true, context: { root_id: alice.root_id } });
check((await b.next('walker')).status === 200 && (await a.next('chat')).data.message === 'string', 'walker send_chat_to_user notifies the user');
b.send({ type: 'walker', walker: 'send_chat_to_group', response: true, context: { channel_id: 'anystring' } });
check((await b.next('walker')).status === 200 && (await grouped.next('chat')).data.message === 'string', 'walker send_chat_to_group notifies the channel');
b.send({ type: 'walker', walker: 'send_chat_to_client', response: true, context: { client_id: anon.info.client_id } });
check((await b.next('walker')).status === 200 && (await anon.next('chat')).data.message === 'string', 'walker send_chat_to_client notifies the client');

// Walker notification — self (progress).
b.send({ type: 'walker', walker: 'self_progress_notif', response: true, context: {} });
const first = await b.next('progress');
const reply = await b.next('walker');
check(first.data.status === 'started' && reply.reports.length === 6, 'self notification reaches the calling socket');

// Walkers are REST routes too.
const res = await fetch(`${base}/walker/send_chat_to_client`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${alice.token}` },
  body: JSON.stringify({ client_id: b.info.client_id, message: 'over REST' }),
});
check(res.status === 200 && (await b.next('chat')).data.message === 'over REST', 'POST /walker/send_chat_to_client notifies over WebSocket');

for (const c of [anon, grouped, a, a2, b]) c.ws.close();
console.log('all seed examples reproduced');
