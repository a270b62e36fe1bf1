#!/usr/bin/env node
/**
 * Walker Hub / jac-cloud WebSocket + REST conformance: replays jac-cloud's WebSocket document and
 * the profile table (docs/jac-cloud.md) against any server.
 *
 *   npm run conformance -- ws://host:port [--profile jac-cloud|native] [--secret S] [--extensions] [--timeout MS]
 *
 * `--secret` is the server's HS256 token secret: with it, authenticated checks sign their own
 * tokens (jac-cloud's claims: id, root_id, expiration); without it they are skipped.
 * `--extensions` adds the hub's `uid` checks to the jac-cloud profile (the native profile always
 * runs them). `--timeout`: how long each awaited frame may take (default 5000 ms). Standalone on purpose: Node 20 and the `ws` package, nothing from this project.
 * Prints one line per check and `N passed, M failed`; exits 1 when any check failed.
 */
import { createHmac, randomBytes } from 'node:crypto';
import WebSocket from 'ws';

const PUBLIC_ROOT = 'n::000000000000000000000001';

function parseArgs(argv) {
  const opts = { url: null, profile: 'jac-cloud', secret: null, extensions: false, timeoutMs: 5000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--profile') opts.profile = argv[++i];
    else if (a.startsWith('--profile=')) opts.profile = a.slice(10);
    else if (a === '--secret') opts.secret = argv[++i];
    else if (a.startsWith('--secret=')) opts.secret = a.slice(9);
    else if (a === '--extensions') opts.extensions = true;
    else if (a === '--timeout') opts.timeoutMs = Number(argv[++i]);
    else if (!a.startsWith('--') && opts.url === null) opts.url = a;
    else throw new Error(`unknown argument ${a}`);
  }
  if (opts.url === null || !/^wss?:\/\//.test(opts.url)) throw new Error('usage: run.mjs ws://host:port [--profile jac-cloud|native] [--secret S] [--extensions]');
  if (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs < 1) throw new Error('--timeout must be a whole number of ms');
  if (opts.profile !== 'jac-cloud' && opts.profile !== 'native') throw new Error('--profile must be jac-cloud or native');
  opts.url = opts.url.replace(/\/+$/, '').replace(/\/websocket$/, '');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
/** How long one awaited frame or response may take before its check fails, ms. */
const WAIT_MS = opts.timeoutMs;
const jac = opts.profile === 'jac-cloud';
const extensions = !jac || opts.extensions;
const wsBase = `${opts.url}/websocket`;
const httpBase = opts.url.replace(/^ws/, 'http');

// ---------------------------------------------------------------------------------------------
// Tokens: HS256, signed here. jac-cloud's payload carries `id`, `root_id` and `expiration` (epoch s).

const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
function sign(claims) {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', opts.secret).update(head).digest('base64url')}`;
}
const hex = () => randomBytes(12).toString('hex');
/** A user's token: `root` is the hex part of its root id; `rootForm` how the claim spells it. */
function userToken({ root = hex(), rootForm = 'n::', expiration = Math.floor(Date.now() / 1000) + 3600, exp } = {}) {
  const id = `conformance-${hex()}`;
  const claims = { id, sub: id, email: `${id}@example.test`, root_id: `${rootForm}${root}`, expiration };
  if (exp !== undefined) claims.exp = exp;
  return { token: sign(claims), rootId: `n::${root}`, root };
}

// ---------------------------------------------------------------------------------------------
// A socket whose frames queue up to be awaited.

class Peer {
  static open(query = '', headers = {}) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${wsBase}${query}`, { headers, maxPayload: 64 * 1024 * 1024 });
      const peer = new Peer(ws);
      ws.once('open', () => resolve(peer));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => reject(Object.assign(new Error(`upgrade refused: HTTP ${res.statusCode}`), { status: res.statusCode, body: Buffer.concat(chunks).toString() })));
      });
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.queue = [];
    this.waiter = null;
    this.closeInfo = null;
    ws.on('message', (raw) => {
      let frame;
      try {
        frame = JSON.parse(raw.toString());
      } catch {
        frame = { unparsable: raw.toString().slice(0, 200) };
      }
      this.queue.push(frame);
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeInfo = { code };
      this.wake();
    });
    ws.on('error', () => this.wake());
  }

  wake() {
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w();
    }
  }

  send(frame) {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame (in arrival order), or null on timeout / close. */
  async next(ms = WAIT_MS) {
    const deadline = Date.now() + ms;
    while (this.queue.length === 0) {
      if (this.closeInfo || Date.now() >= deadline) return null;
      await new Promise((resolve) => {
        const t = setTimeout(resolve, deadline - Date.now());
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.queue.shift();
  }

  /** The next frame that matches, skipping others (which are dropped). */
  async find(match, ms = WAIT_MS) {
    const deadline = Date.now() + ms;
    for (;;) {
      const f = await this.next(Math.max(deadline - Date.now(), 1));
      if (f === null) return null;
      if (match(f)) return f;
    }
  }

  async closed(ms = WAIT_MS) {
    const deadline = Date.now() + ms;
    while (!this.closeInfo && Date.now() < deadline) await this.next(deadline - Date.now());
    return this.closeInfo;
  }

  close() {
    this.ws.terminate();
  }
}

const peers = [];
async function connect(query = '', token = null) {
  const peer = await Peer.open(query, token ? { Authorization: `Bearer ${token}` } : {});
  peers.push(peer);
  peer.info = (await peer.find((f) => f.type === 'connection'))?.data ?? null;
  return peer;
}

// ---------------------------------------------------------------------------------------------
// Checks.

let passed = 0;
let failed = 0;
let skipped = 0;
async function check(name, fn, { needs } = {}) {
  if (needs === 'secret' && opts.secret === null) {
    skipped++;
    process.stdout.write(`skip  ${name} (needs --secret)\n`);
    return;
  }
  try {
    await fn();
    passed++;
    process.stdout.write(`ok    ${name}\n`);
  } catch (err) {
    failed++;
    process.stdout.write(`FAIL  ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}

function expect(cond, what, got) {
  if (!cond) throw new Error(`${what}; got ${got === undefined ? 'nothing' : JSON.stringify(got)?.slice(0, 300)}`);
}
const isObj = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A walker success reply as the profile writes it (no uid). */
const isWalkerOk = (f) => isObj(f) && f.status === 200 && Array.isArray(f.reports) && (jac ? f.type === undefined : f.type === 'walker');
/** A walker error reply (no uid). */
const isWalkerError = (f) => isObj(f) && f.type === 'walker' && (jac ? typeof f.error === 'string' && f.traceback === undefined : isObj(f.error) && typeof f.error.code === 'string');
/** A frame-level error (unknown type, schema problem). */
const isFrameError = (f) => isObj(f) && (jac ? Array.isArray(f.error) && f.error.length > 0 : f.type === 'error' && isObj(f.error));

/**
 * Peer frames have no reply: to show that a notification did NOT arrive, the same sender then
 * sends a marker to the same socket; delivery is in publish order, so the marker comes first.
 */
async function nextAfterMarker(sender, receiver) {
  const marker = `marker-${hex()}`;
  sender.send({ type: 'client', client_ids: [receiver.info.client_id], data: { type: 'marker', data: marker } });
  return receiver.next();
}

async function rest(method, path, { token, body, raw } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) {
    payload = raw;
    headers['Content-Type'] = 'application/json';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(`${httpBase}${path}`, { method, headers, body: payload, signal: AbortSignal.timeout(WAIT_MS) });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = { unparsable: text.slice(0, 200) };
  }
  return { status: res.status, body: json };
}

async function main() {
  process.stdout.write(`conformance: ${wsBase} as ${opts.profile}${opts.secret ? '' : ' (no --secret: authenticated checks skipped)'}\n`);

  await check('connect: first frame is `connection` with client_id, root_id, channel_id', async () => {
    const a = await connect();
    expect(isObj(a.info) && typeof a.info.client_id === 'string' && typeof a.info.root_id === 'string' && typeof a.info.channel_id === 'string', 'connection data', a.info);
    expect(a.info.root_id === PUBLIC_ROOT, `public root ${PUBLIC_ROOT}`, a.info.root_id);
  });

  await check('connect: ?channel_id= is the connection channel', async () => {
    const a = await connect('?channel_id=conformance-room');
    expect(a.info?.channel_id === 'conformance-room', 'channel_id echoed', a.info);
  });

  await check('`connection` frame: answered with the connection info again', async () => {
    const a = await connect();
    a.send({ type: 'connection' });
    const f = await a.next();
    expect(f?.type === 'connection' && f.data?.client_id === a.info.client_id, 'same connection info', f);
  });

  await check(jac ? 'peer events: a public socket may send `client` frames' : 'peer events: a public socket may not send `client` frames', async () => {
    const a = await connect();
    const b = await connect();
    a.send({ type: 'client', client_ids: [b.info.client_id], data: { type: 'chat', data: { any_field: 'any_value' } } });
    if (jac) {
      const f = await b.next();
      expect(f?.type === 'chat' && f.data?.any_field === 'any_value', 'payload delivered verbatim', f);
    } else {
      const f = await a.next();
      expect(f?.type === 'error' && f.error?.code === 'forbidden', 'forbidden error frame', f);
    }
  });

  await check('`channel` frame reaches every socket of the channel, payload verbatim', async () => {
    const room = `room-${hex()}`;
    const token = opts.secret ? userToken().token : null;
    const a = await connect('', jac ? null : token);
    const b = await connect(`?channel_id=${room}`);
    a.send({ type: 'channel', channel_ids: [room], data: { type: 'chat', data: { n: 1 } } });
    const f = await b.next();
    expect(f?.type === 'chat' && f.data?.n === 1, 'payload delivered', f);
  }, jac ? {} : { needs: 'secret' });

  await check('`user` frame reaches every socket of the user', async () => {
    const user = userToken();
    const b1 = await connect('', user.token);
    const b2 = await connect('', user.token);
    expect(b1.info?.root_id === user.rootId, 'authenticated root', b1.info);
    const a = await connect('', userToken().token);
    a.send({ type: 'user', root_ids: [user.rootId], data: { type: 'chat', data: { hi: true } } });
    for (const b of [b1, b2]) {
      const f = await b.next();
      expect(f?.type === 'chat' && f.data?.hi === true, 'payload delivered to each socket', f);
    }
  }, { needs: 'secret' });

  await check(`walker with response:true answers ${jac ? 'the bare {"status":200,"reports":[...]}' : '{"type":"walker","status":200,...}'}, and its notification arrives`, async () => {
    const user = userToken();
    const a = await connect('', user.token);
    a.send({ type: 'walker', walker: 'send_chat_to_client', response: true, context: { client_id: a.info.client_id } });
    const frames = [await a.next(), await a.next()];
    expect(frames.some((f) => f?.type === 'chat'), 'chat notification', frames);
    expect(frames.some(isWalkerOk), 'walker reply in the profile shape', frames);
  }, { needs: 'secret' });

  await check(`walker error: ${jac ? '{"type":"walker","error":"<message>"}, no traceback' : '{"type":"walker","error":{code,message}}'}`, async () => {
    const a = await connect();
    // The document's walkers require an authenticated user; a public call fails.
    a.send({ type: 'walker', walker: 'send_chat_to_user', response: true, context: { root_id: PUBLIC_ROOT } });
    const f = await a.next();
    expect(isWalkerError(f), 'walker error shape', f);
  });

  await check(`unknown frame type: ${jac ? '{"error":[...]}' : '{"type":"error",...}'}`, async () => {
    const a = await connect();
    a.send({ type: 'no_such_type' });
    const f = await a.next();
    expect(isFrameError(f), 'frame error shape', f);
  });

  await check(`walker frame naming no walker: ${jac ? '{"type":"walker","error":"..."}' : '{"type":"error",...}'}`, async () => {
    const a = await connect();
    a.send({ type: 'walker', walker: `no_such_walker_${hex()}`, response: true, context: {} });
    const f = await a.next();
    expect(jac ? isWalkerError(f) : isFrameError(f) && f.error.code === 'unknown_walker', jac ? 'walker error shape' : 'unknown_walker error frame', f);
  });

  await check(`schema problem (walker frame without walker): ${jac ? '{"error":[...]}' : '{"type":"error",...}'}`, async () => {
    const a = await connect();
    a.send({ type: 'walker', response: true });
    const f = await a.next();
    expect(isFrameError(f), 'frame error shape', f);
  });

  await check('walker frames without uid are answered in request order', async () => {
    const a = await connect('', userToken().token);
    // ok, error (missing root_id), ok, error, ok: the reply kinds must come back in this order.
    const good = { type: 'walker', walker: 'send_chat_to_client', response: true, context: { client_id: `nobody-${hex()}` } };
    const bad = { type: 'walker', walker: 'send_chat_to_user', response: true, context: {} };
    const sent = [good, bad, good, bad, good];
    for (const f of sent) a.send(f);
    const kinds = [];
    for (let i = 0; i < sent.length; i++) {
      const f = await a.next();
      kinds.push(isWalkerOk(f) ? 'ok' : isWalkerError(f) ? 'error' : JSON.stringify(f));
    }
    expect(kinds.join() === 'ok,error,ok,error,ok', 'ok,error,ok,error,ok', kinds);
  }, { needs: 'secret' });

  await check('change_user with "Bearer <token>": a `connection` frame with the user\'s root', async () => {
    const user = userToken();
    const a = await connect();
    a.send({ type: 'change_user', token: `Bearer ${user.token}` });
    const f = await a.next();
    expect(f?.type === 'connection' && f.data?.root_id === user.rootId, 'authenticated connection frame', f);
  }, { needs: 'secret' });

  await check(jac ? 'change_user without the "Bearer " prefix: public, no error' : 'change_user without the "Bearer " prefix: authenticated', async () => {
    const user = userToken();
    const a = await connect();
    a.send({ type: 'change_user', token: user.token });
    const f = await a.next();
    expect(f?.type === 'connection' && f.data?.root_id === (jac ? PUBLIC_ROOT : user.rootId), 'connection frame root', f);
  }, { needs: 'secret' });

  await check(jac ? 'change_user with a bad token: silently public' : 'change_user with a bad token: invalid_token error, then public', async () => {
    const a = await connect();
    a.send({ type: 'change_user', token: 'Bearer not.a.token' });
    const f = await a.next();
    if (jac) {
      expect(f?.type === 'connection' && f.data?.root_id === PUBLIC_ROOT, 'public connection frame first', f);
    } else {
      expect(f?.type === 'error' && f.error?.code === 'invalid_token', 'invalid_token error first', f);
      const g = await a.next();
      expect(g?.type === 'connection' && g.data?.root_id === PUBLIC_ROOT, 'then a public connection frame', g);
    }
  });

  await check(jac ? 'handshake with a bad token: connects as public' : 'handshake with a bad token: HTTP 401', async () => {
    let outcome;
    try {
      const a = await connect('', 'not.a.token');
      outcome = { root: a.info?.root_id };
    } catch (err) {
      outcome = { status: err.status };
    }
    if (jac) expect(outcome.root === PUBLIC_ROOT, 'public connection', outcome);
    else expect(outcome.status === 401, 'HTTP 401', outcome);
  });

  await check(jac ? 'token `expiration` in the past: not accepted (public)' : 'token `expiration` is not a claim the native profile reads', async () => {
    const user = userToken({ expiration: Math.floor(Date.now() / 1000) - 60 });
    const a = await connect('', user.token);
    expect(a.info?.root_id === (jac ? PUBLIC_ROOT : user.rootId), 'connection root', a.info);
  }, { needs: 'secret' });

  await check(jac ? 'root ids n:Root:<hex> and n::<hex> name the same root' : 'root ids are matched exactly (n:Root:<hex> is not n::<hex>)', async () => {
    const user = userToken();
    const b = await connect('', user.token);
    const a = await connect('', userToken().token);
    a.send({ type: 'user', root_ids: [`n:Root:${user.root}`], data: { type: 'chat', data: 'alias' } });
    const f = jac ? await b.next() : await nextAfterMarker(a, b);
    if (jac) expect(f?.type === 'chat' && f.data === 'alias', 'delivered under the alias', f);
    else expect(f?.type === 'marker', 'not delivered (the marker comes first)', f);
  }, { needs: 'secret' });

  await check(jac ? 'frames up to 16 MiB: a 1 MiB frame is handled' : 'frames over 64 KiB: closed with 1009', async () => {
    const a = await connect();
    // Native: 100 KiB, within the hub's grace over the limit (further over, the socket is cut: 1006).
    a.send(JSON.stringify({ type: 'connection', pad: 'x'.repeat(jac ? 1024 * 1024 : 100 * 1024) }));
    if (jac) {
      const f = await a.next();
      expect(f?.type === 'connection', 'connection frame', f);
    } else {
      const c = await a.closed();
      expect(c?.code === 1009, 'close 1009', c);
    }
  });

  if (extensions) {
    await check('uid: ping answered by pong with the same uid', async () => {
      const a = await connect();
      a.send({ type: 'ping', uid: 'p-1' });
      const f = await a.next();
      expect(f?.type === 'pong' && f.uid === 'p-1', 'pong with uid', f);
    });
    await check('uid: a walker error with uid is the native typed frame in every profile', async () => {
      const a = await connect();
      a.send({ type: 'walker', walker: 'send_chat_to_user', response: true, context: {}, uid: 'w-1' });
      const f = await a.next();
      expect(f?.type === 'walker' && f.uid === 'w-1' && isObj(f.error) && typeof f.error.code === 'string', 'typed walker error with uid', f);
    });
    await check('uid: an unknown type with uid is a typed error frame in every profile', async () => {
      const a = await connect();
      a.send({ type: 'no_such_type', uid: 'u-1' });
      const f = await a.next();
      expect(f?.type === 'error' && f.uid === 'u-1' && f.error?.code === 'unknown_type', 'typed error with uid', f);
    });
  }

  // REST, on the document's walkers.
  await check(jac ? 'REST: no token on an auth walker is 403 {"detail":"Not authenticated"}' : 'REST: no token on an auth walker is 401 {status,error}', async () => {
    const r = await rest('POST', '/walker/send_chat_to_user', { body: { root_id: PUBLIC_ROOT } });
    if (jac) expect(r.status === 403 && r.body?.detail === 'Not authenticated', '403 Not authenticated', r);
    else expect(r.status === 401 && r.body?.error?.code === 'unauthorized', '401 unauthorized', r);
  });

  await check(jac ? 'REST: a bad token is 401 {"detail":"Unauthorized"}' : 'REST: a bad token is 401 invalid_token', async () => {
    const r = await rest('POST', '/walker/send_chat_to_user', { token: 'not.a.token', body: { root_id: PUBLIC_ROOT } });
    if (jac) expect(r.status === 401 && r.body?.detail === 'Unauthorized', '401 Unauthorized', r);
    else expect(r.status === 401 && r.body?.error?.code === 'invalid_token', '401 invalid_token', r);
  });

  await check(jac ? 'REST: a validation problem is 422 {"detail":[...]}' : 'REST: a validation problem is 422 invalid_input', async () => {
    const r = await rest('POST', '/walker/send_chat_to_user', { token: userToken().token, body: {} });
    expect(r.status === 422, '422', r);
    if (jac) expect(Array.isArray(r.body?.detail) && r.body.detail.length > 0, 'detail list', r);
    else expect(r.body?.error?.code === 'invalid_input', 'invalid_input', r);
  }, { needs: 'secret' });

  await check(jac ? 'REST: malformed JSON is 422 {"detail":[...]}' : 'REST: malformed JSON is 400 invalid_json', async () => {
    const r = await rest('POST', '/walker/send_chat_to_user', { token: userToken().token, raw: '{"root_id":' });
    if (jac) expect(r.status === 422 && Array.isArray(r.body?.detail), '422 detail list', r);
    else expect(r.status === 400 && r.body?.error?.code === 'invalid_json', '400 invalid_json', r);
  }, { needs: 'secret' });

  await check('REST: a walker call answers {"status":200,"reports":[...]}', async () => {
    const r = await rest('POST', '/walker/send_chat_to_client', { token: userToken().token, body: { client_id: `nobody-${hex()}` } });
    expect(r.status === 200 && r.body?.status === 200 && Array.isArray(r.body?.reports), '200 with reports', r);
  }, { needs: 'secret' });

  if (jac) {
    await check('REST: /walker/{name}/{node} is served', async () => {
      const r = await rest('POST', `/walker/send_chat_to_client/n::${hex()}`, { token: userToken().token, body: { client_id: `nobody-${hex()}` } });
      expect(r.status === 200 && Array.isArray(r.body?.reports), '200 with reports', r);
    }, { needs: 'secret' });
  }

  for (const p of peers) p.close();
  process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`conformance: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
