/**
 * The only module that touches uWebSockets.js. It turns sockets and HTTP requests into calls on
 * the socket-free hub and REST handlers, and implements `Connection` and `Publisher` for them.
 *
 * uWS rules kept here: upgrades complete synchronously; `res.onAborted` is set before anything
 * async; writes after an `await` are corked; a socket is never touched after its close event (the
 * wrapper's `closed` flag).
 */
import { STATUS_CODES } from 'node:http';
import { nanoid } from 'nanoid';
import uWS from 'uWebSockets.js';
import type { Authenticator } from '../auth/authenticator.js';
import { bearerToken, type Identity } from '../auth/identity.js';
import type { Connection, Publisher } from '../hub/connection.js';
import { closeCodes, HubError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../log.js';
import type { MaybePromise } from '../maybe.js';
import { MAX_ID_LENGTH } from '../protocol.js';
import { EncodedBody, RawBody, errorResponse, type RestRequest, type RestResponse } from '../http/request.js';
import type { Session } from '../hub/session.js';
import { Admission } from './admission.js';
import { Listener } from './listener.js';
import { noMetrics, type Metrics } from '../metrics/sinks.js';
import { defaultMaxConnections } from './open-files.js';

export interface TransportOptions {
  readonly host: string;
  readonly port: number;
  readonly maxPayloadBytes: number;
  readonly maxBodyBytes: number;
  readonly maxBackpressureBytes: number;
  readonly idleTimeoutSec: number;
  /** WebSockets at once (0 = no cap; absent = derived from the open-file limit). */
  readonly maxConnections?: number | undefined;
  readonly maxConnectionsPerIp?: number;
  readonly allowedOrigins?: readonly string[];
  /** Close the listen socket while open files are near the limit (see accept-guard.ts). */
  readonly fdGuard?: boolean;
}

export interface TransportDeps {
  readonly hub: Hub;
  readonly authenticator: Authenticator;
  /** POST routes by uWS pattern (at most one `:param`, passed as `name`); other methods get 405. */
  readonly postRoutes: Readonly<Record<string, (req: RestRequest) => MaybePromise<RestResponse>>>;
  /** GET routes by uWS pattern (at most one `:param`, passed as `name`); the request has no body. */
  readonly getRoutes?: Readonly<Record<string, (req: RestRequest) => MaybePromise<RestResponse>>>;
  /**
   * Routes answered on GET, POST, PUT, PATCH and DELETE by uWS pattern (up to two `:params`, passed
   * as `name` and `node`; the method as `method`); every method but GET has its body read.
   */
  readonly anyMethodRoutes?: Readonly<Record<string, (req: RestRequest) => MaybePromise<RestResponse>>>;
  /** A present but bad handshake token: refused with its HTTP status (default), or connected as public (jac-cloud). */
  readonly badHandshakeToken?: 'refuse' | 'public';
  readonly health: () => Record<string, unknown>;
  readonly log: Logger;
  /** Connects, disconnects, upgrade refusals, HTTP responses; nothing is counted when absent. */
  readonly metrics?: Pick<Metrics, 'connected' | 'disconnected' | 'rateLimited' | 'httpResponse'>;
}

export interface Transport {
  readonly publisher: Publisher;
  /** Resolves with the bound port (useful with port 0). */
  listen(): Promise<number>;
  /** Refuses new WebSocket upgrades with 503 `unavailable` from now on; HTTP and open sockets carry on (a drain). */
  refuseUpgrades(): void;
  /** Stops accepting, closes every socket with 1001 and every HTTP connection. */
  close(): void;
}

interface UserData {
  session: Session;
  /** The peer address, counted against maxConnectionsPerIp until close. */
  ip: string;
  conn: SocketConnection | null;
}

type Ws = uWS.WebSocket<UserData>;

/**
 * How far over maxPayloadBytes a frame may be and still get a 1009 close: uWS buffers a frame whole
 * before the hub sees it, so this bounds what one socket can make the hub hold inbound
 * (maxPayloadBytes + grace). Beyond it uWS cuts the socket without a close frame (1006).
 */
export const MAX_OVERSIZE_GRACE_BYTES = 64 * 1024;
export const oversizeGraceBytes = (maxPayloadBytes: number): number => Math.min(maxPayloadBytes, MAX_OVERSIZE_GRACE_BYTES);

class SocketConnection implements Connection {
  closed = false;
  /** True while uWS runs this socket's `message` callback, where uWS has corked this socket already. */
  inCallback = false;
  /** The frame `flush` sends: one bound callback per socket, so a send allocates no closure. */
  private outgoing = '';
  private readonly flush = () => void this.ws.send(this.outgoing);
  constructor(private readonly ws: Ws) {}

  send(frame: string): void {
    if (this.closed) return;
    // Inside uWS's message callback the socket is corked already: send directly (one native call,
    // not two). Elsewhere (after an await) corked, so the frames still leave in one syscall.
    if (this.inCallback) {
      this.ws.send(frame);
      return;
    }
    this.outgoing = frame;
    this.ws.cork(this.flush);
    this.outgoing = '';
  }

  subscribe(topic: string): void {
    if (!this.closed) this.ws.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    if (!this.closed) this.ws.unsubscribe(topic);
  }

  end(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.end(code, reason);
  }
}

export function createTransport(options: TransportOptions, deps: TransportDeps): Transport {
  const { hub, authenticator, log } = deps;
  const app = uWS.App();
  const metrics = deps.metrics ?? noMetrics;
  let closing = false;
  let refusingUpgrades = false;
  /** Every HTTP response goes out through here, counted by route pattern and status. */
  const respond = (res: uWS.HttpResponse, route: string, response: RestResponse, closeConnection = false, requestId = nextRequestId()): void => {
    metrics.httpResponse(route, response.status);
    writeResponse(res, response, closeConnection, requestId);
  };
  const admission = new Admission({
    maxConnections: options.maxConnections ?? defaultMaxConnections(),
    maxConnectionsPerIp: options.maxConnectionsPerIp ?? 0,
    allowedOrigins: options.allowedOrigins ?? [],
  });
  const listener = new Listener<uWS.us_listen_socket>(
    {
      bind: (port) => new Promise((resolve) => app.listen(options.host, port, (socket) => resolve(socket || null))),
      unbind: (socket) => uWS.us_listen_socket_close(socket),
      portOf: (socket) => uWS.us_socket_local_port(socket as unknown as uWS.us_socket),
    },
    { host: options.host, port: options.port, fdGuard: options.fdGuard ?? true },
    log,
  );

  app.ws<UserData>('/websocket', {
    // uWS drops an oversized frame without a close frame (the client sees 1006). Let frames up to
    // the grace over the limit through so the hub can close with 1009 and a reason; beyond that uWS
    // still cuts the socket before buffering it.
    maxPayloadLength: options.maxPayloadBytes + oversizeGraceBytes(options.maxPayloadBytes),
    maxBackpressure: options.maxBackpressureBytes,
    closeOnBackpressureLimit: true,
    idleTimeout: options.idleTimeoutSec,
    sendPingsAutomatically: true,
    compression: uWS.DISABLED,

    upgrade: (res, req, context) => {
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const token = bearerToken(req.getHeader('authorization')) ?? bearerToken(req.getQuery('token'));
      const channelParam = req.getQuery('channel_id');
      const channelId = channelParam === undefined || channelParam === '' ? undefined : channelParam;
      const ip = remoteIp(res);

      if (closing || refusingUpgrades) return respond(res, WS_ROUTE, errorResponse(new HubError('unavailable', 'The hub is draining; connect to another node or retry shortly')), true);
      // Refused before any token work, and the TCP connection is closed so its descriptor is freed.
      const refused = admission.refuse(ip, req.getHeader('origin'));
      if (refused) {
        if (refused.code !== 'origin_not_allowed') metrics.rateLimited('connections');
        return respond(res, WS_ROUTE, errorResponse(refused), true);
      }
      if (channelId !== undefined && channelId.length > MAX_ID_LENGTH) {
        return respond(res, WS_ROUTE, errorResponse(new HubError('invalid_frame', `channel_id must be at most ${MAX_ID_LENGTH} characters`)));
      }
      // Verification is synchronous, so every upgrade completes inside this callback (see jwt.ts
      // for why an asynchronous upgrade is avoided). A present but bad token is refused, never
      // downgraded to public, unless the profile says so (jac-cloud connects it as public).
      let identity: Identity | undefined;
      if (token !== null) {
        try {
          identity = authenticator.verify(token);
        } catch (err) {
          if (deps.badHandshakeToken !== 'public') return respond(res, WS_ROUTE, errorResponse(err instanceof HubError ? err : new HubError('invalid_token')));
        }
      }
      const data: UserData = { session: hub.newSession(identity, channelId), ip, conn: null };
      res.upgrade(data, key, protocol, extensions, context);
    },

    open: (ws) => {
      const data = ws.getUserData();
      data.conn = new SocketConnection(ws);
      admission.opened(data.ip);
      metrics.connected();
      hub.open(data.session, data.conn);
    },

    message: (ws, message, isBinary) => {
      if (message.byteLength > options.maxPayloadBytes) {
        ws.getUserData().conn?.end(closeCodes.tooBig, `frame exceeds ${options.maxPayloadBytes} bytes`);
        return;
      }
      // The ArrayBuffer is neutered when this callback returns: decode now.
      const data = ws.getUserData();
      const conn = data.conn;
      if (conn) conn.inCallback = true;
      try {
        hub.message(data.session, isBinary ? null : utf8.decode(message));
      } finally {
        if (conn) conn.inCallback = false;
      }
    },

    close: (ws, code) => {
      const data = ws.getUserData();
      if (data.conn) data.conn.closed = true;
      admission.closed(data.ip);
      metrics.disconnected(code);
      hub.close(data.session);
      log.debug('socket closed', { client_id: data.session.clientId, code });
    },
  });

  app.get('/healthz', (res) =>
    respond(res, '/healthz', { status: 200, body: { ...deps.health(), max_connections: admission.options.maxConnections, accepting: listener.accepting } }),
  );

  for (const [pattern, handler] of Object.entries(deps.getRoutes ?? {})) {
    app.get(pattern, (res, req) => {
      const { request, requestId, reqLog } = readRequest(res, req, pattern, log);
      answer(res, pattern, respond, () => handler(request), requestId, reqLog);
    });
  }

  for (const [pattern, handler] of Object.entries(deps.postRoutes)) {
    app.post(pattern, (res, req) => withBody(res, req, pattern, handler));
    app.any(pattern, (res) => respond(res, pattern, errorResponse(new HubError('method_not_allowed', 'Use POST'), { Allow: 'POST' })));
  }

  for (const [pattern, handler] of Object.entries(deps.anyMethodRoutes ?? {})) {
    app.get(pattern, (res, req) => {
      const { request, requestId, reqLog } = readRequest(res, req, pattern, log);
      answer(res, pattern, respond, () => handler(request), requestId, reqLog);
    });
    for (const method of ['post', 'put', 'patch', 'del'] as const) app[method](pattern, (res, req) => withBody(res, req, pattern, handler));
  }

  /** Reads the body (up to maxBodyBytes: else 413 and the connection closed), then runs the handler. */
  function withBody(res: uWS.HttpResponse, req: uWS.HttpRequest, pattern: string, handler: (req: RestRequest) => MaybePromise<RestResponse>): void {
    const { request, requestId, reqLog } = readRequest(res, req, pattern, log);
    if (Number(req.getHeader('content-length') || '0') > options.maxBodyBytes) return respond(res, pattern, tooLarge(options.maxBodyBytes), true, requestId);
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    readBody(res, options.maxBodyBytes, (body) => {
      if (body === null) {
        if (!aborted) respond(res, pattern, tooLarge(options.maxBodyBytes), true, requestId);
        aborted = true;
        return;
      }
      answer(res, pattern, respond, () => handler({ ...request, body }), requestId, reqLog, () => aborted);
    });
  }

  app.any('/*', (res, req) => respond(res, UNMATCHED_ROUTE, errorResponse(new HubError('not_found', `No route for ${req.getMethod().toUpperCase()} ${req.getUrl()}`))));

  return {
    publisher: { publish: (topic, frame) => void app.publish(topic, frame) },
    listen: () => listener.listen(),
    refuseUpgrades: () => {
      refusingUpgrades = true;
    },
    close: () => {
      if (closing) return;
      closing = true;
      listener.close();
      hub.closeAll('server shutting down');
      app.close();
    },
  };
}

const EMPTY_BODY = Buffer.alloc(0);
/** Route labels of responses that match no REST route: refused upgrades, and requests for no route. */
const WS_ROUTE = '/websocket';
const UNMATCHED_ROUTE = 'unmatched';

type Respond = (res: uWS.HttpResponse, route: string, response: RestResponse, closeConnection?: boolean, requestId?: string) => void;

/** Decodes frames without a Buffer per frame; invalid UTF-8 becomes U+FFFD and a BOM is kept, as with Buffer#toString. */
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Everything a handler sees of a request, read now: `req` is only valid during the uWS callback.
 * The body (POST) is read afterwards; each request gets an id and a logger carrying it.
 */
function readRequest(res: uWS.HttpResponse, req: uWS.HttpRequest, pattern: string, log: Logger): { request: RestRequest; requestId: string; reqLog: Logger } {
  const requestId = nextRequestId();
  const reqLog = log.child({ request_id: requestId });
  const params = pattern.split(':').length - 1;
  const request: RestRequest = {
    name: params > 0 ? safeDecode(req.getParameter(0) ?? '') : '',
    ...(params > 1 ? { node: safeDecode(req.getParameter(1) ?? '') } : {}),
    method: req.getMethod(),
    query: req.getQuery() ?? '',
    authorization: req.getHeader('authorization'),
    // Only the server API (/api/...) takes a key: other routes skip the header lookup.
    apiKey: pattern.startsWith('/api/') ? req.getHeader('x-api-key') : '',
    contentType: req.getHeader('content-type'),
    ip: remoteIp(res),
    body: EMPTY_BODY,
    log: reqLog,
  };
  return { request, requestId, reqLog };
}

/**
 * Runs a route handler and writes its response: inside this callback when the work was
 * synchronous, else corked after the await (and not at all once the client has gone).
 */
function answer(res: uWS.HttpResponse, pattern: string, respond: Respond, run: () => MaybePromise<RestResponse>, requestId: string, reqLog: Logger, isAborted?: () => boolean): void {
  let response: MaybePromise<RestResponse>;
  try {
    response = run();
  } catch (err) {
    // Handlers are not meant to throw; never let one take the process down.
    reqLog.error('route failed', { route: pattern, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    response = errorResponse(new HubError('internal'));
  }
  if (!(response instanceof Promise)) return respond(res, pattern, response, false, requestId);
  let aborted = false;
  if (isAborted === undefined) {
    // A GET has no body reader that set onAborted already.
    res.onAborted(() => {
      aborted = true;
    });
  }
  const gone = () => aborted || (isAborted?.() ?? false);
  response.then(
    (ready) => {
      if (!gone()) res.cork(() => respond(res, pattern, ready, false, requestId));
    },
    (err: unknown) => {
      reqLog.error('route failed', { route: pattern, error: String(err) });
      if (!gone()) res.cork(() => respond(res, pattern, errorResponse(new HubError('internal')), false, requestId));
    },
  );
}

/** The TCP peer's address as text; read inside the uWS callback (the response is valid only then). */
function remoteIp(res: uWS.HttpResponse): string {
  return Buffer.from(res.getRemoteAddressAsText()).toString('latin1');
}
const statusLines = new Map<number, string>();

function tooLarge(limit: number): RestResponse {
  return errorResponse(new HubError('payload_too_large', `Body exceeds ${limit} bytes`));
}

/** Request ids: a random prefix per process and a counter (unique across nodes and restarts, and cheap). */
const requestIdPrefix = `${nanoid(8)}-`;
let requestSeq = 0;
function nextRequestId(): string {
  return requestIdPrefix + (++requestSeq).toString(36);
}

/** Every HTTP response carries an `X-Request-Id`: the one in the request's log lines, or a fresh one. */
function writeResponse(res: uWS.HttpResponse, response: RestResponse, closeConnection: boolean, requestId: string): void {
  let line = statusLines.get(response.status);
  if (line === undefined) statusLines.set(response.status, (line = `${response.status} ${STATUS_CODES[response.status] ?? ''}`));
  res.writeStatus(line);
  const body = response.body;
  res.writeHeader('Content-Type', body instanceof RawBody ? body.contentType : 'application/json');
  res.writeHeader('X-Request-Id', requestId);
  if (response.headers) for (const name in response.headers) res.writeHeader(name, response.headers[name] as string);
  res.end(body instanceof RawBody ? body.bytes : body instanceof EncodedBody ? body.json : JSON.stringify(body), closeConnection);
}

/** Collects a body up to `limit` bytes; calls back with null as soon as it is exceeded. */
function readBody(res: uWS.HttpResponse, limit: number, done: (body: Buffer | null) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  res.onData((chunk, isLast) => {
    if (over) return;
    size += chunk.byteLength;
    if (size > limit) {
      over = true;
      return done(null);
    }
    // The chunk is neutered after this callback: copy it (once, for the usual one-chunk body).
    const copy = Buffer.from(chunk.slice(0));
    if (!isLast) chunks.push(copy);
    else done(chunks.length === 0 ? copy : Buffer.concat([...chunks, copy], size));
  });
}

/** A malformed %-escape yields a name no walker has (so a 404), never an exception. */
function safeDecode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
