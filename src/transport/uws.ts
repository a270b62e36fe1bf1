/**
 * The uWebSockets.js app (only src/transport/ touches uWS): it turns sockets and HTTP requests into
 * calls on the socket-free hub and REST handlers (request and response plumbing in http.ts), and
 * implements `Connection` and `Publisher` for them.
 *
 * uWS rules kept here: upgrades complete synchronously; `res.onAborted` is set before anything
 * async; writes after an `await` are corked; a socket is never touched after its close event (the
 * wrapper's `closed` flag).
 */
import uWS from 'uWebSockets.js';
import type { Authenticator } from '../auth/authenticator.js';
import { bearerToken, type Identity } from '../auth/identity.js';
import type { Connection, Publisher } from '../hub/connection.js';
import { closeCodes, HubError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../log.js';
import type { MaybePromise } from '../maybe.js';
import { MAX_ID_LENGTH } from '../protocol.js';
import { errorResponse, type RestRequest, type RestResponse } from '../http/request.js';
import { nextRequestId, routeHandlers, writeResponse, type Respond } from './http.js';
import type { Session } from '../hub/session.js';
import { Admission } from './admission.js';
import { Listener } from './listener.js';
import { noMetrics, type Metrics } from '../metrics/sinks.js';
import { defaultMaxConnections } from './open-files.js';
import { ClientAddresses, type ForwardedHeader } from './client-address.js';
import type { IpRange } from '../ip-address.js';
import { chainFile, type TlsFiles } from './tls.js';

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
  /** Peers whose forwarding header (and PROXY v2 header) name the client (see client-address.ts). */
  readonly trustedProxies?: readonly IpRange[];
  readonly forwardedHeader?: ForwardedHeader;
  /** Serve https:// and wss:// with these files (checked already: see tls.ts); plain when absent. */
  readonly tls?: TlsFiles | undefined;
  /** permessage-deflate towards clients that offer it (default off). */
  readonly compression?: Compression;
}

export type Compression = 'off' | 'shared' | 'dedicated';

/**
 * Outbound compressor per setting. Inbound, clients' frames are small requests: the shared
 * decompressor (no memory per socket) reads them in every mode.
 */
const compressors: Record<Compression, uWS.CompressOptions> = {
  off: uWS.DISABLED,
  shared: uWS.SHARED_COMPRESSOR | uWS.SHARED_DECOMPRESSOR,
  dedicated: uWS.DEDICATED_COMPRESSOR_32KB | uWS.SHARED_DECOMPRESSOR,
};

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
  /** The client address (behind a trusted proxy: the forwarded one), counted against maxConnectionsPerIp until close. */
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
  private readonly flush = () => void this.ws.send(this.outgoing, false, this.compress);
  /** uWS compresses a frame only when asked to, and only for sockets that negotiated it. */
  constructor(
    private readonly ws: Ws,
    private readonly compress: boolean,
  ) {}

  send(frame: string): void {
    if (this.closed) return;
    // Inside uWS's message callback the socket is corked already: send directly (one native call,
    // not two). Elsewhere (after an await) corked, so the frames still leave in one syscall.
    if (this.inCallback) {
      this.ws.send(frame, false, this.compress);
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
  const app = options.tls ? sslApp(options.tls) : uWS.App();
  const compression = options.compression ?? 'off';
  const compress = compression !== 'off';
  const metrics = deps.metrics ?? noMetrics;
  let closing = false;
  let refusingUpgrades = false;
  /** Every HTTP response goes out through here, counted by route pattern and status. */
  const respond: Respond = (res, route, response, closeConnection = false, requestId = nextRequestId()) => {
    metrics.httpResponse(route, response.status);
    writeResponse(res, response, closeConnection, requestId);
  };
  const addresses = new ClientAddresses(options.trustedProxies ?? [], options.forwardedHeader);
  const peerIp = (res: uWS.HttpResponse): string => asText(res.getRemoteAddressAsText());
  /** Read inside the uWS callback: `res` and `req` are valid only then. */
  const clientIp = (res: uWS.HttpResponse, req: uWS.HttpRequest): string =>
    addresses.of(peerIp(res), () => asText(res.getProxiedRemoteAddressAsText()), (name) => headerLines(req, name));
  const routes = routeHandlers({ respond, log, maxBodyBytes: options.maxBodyBytes, clientIp, peerIp: addresses.peerOnly ? peerIp : null });
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
    compression: compressors[compression],

    upgrade: (res, req, context) => {
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const token = bearerToken(req.getHeader('authorization')) ?? bearerToken(req.getQuery('token'));
      const channelParam = req.getQuery('channel_id');
      const channelId = channelParam === undefined || channelParam === '' ? undefined : channelParam;
      const ip = clientIp(res, req);

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
      const session = hub.newSession(identity, channelId, ip);
      // The channel's namespace rules, as for a `subscribe` frame; refused: 403 forbidden (an
      // asynchronous subscribe walker decides after the upgrade: see Hub.admitConnectChannel).
      if (channelId !== undefined) {
        const refusedChannel = hub.admitConnectChannel(session);
        if (refusedChannel) return respond(res, WS_ROUTE, errorResponse(refusedChannel));
      }
      const data: UserData = { session, ip, conn: null };
      res.upgrade(data, key, protocol, extensions, context);
    },

    open: (ws) => {
      const data = ws.getUserData();
      data.conn = new SocketConnection(ws, compress);
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

  for (const [pattern, handler] of Object.entries(deps.getRoutes ?? {})) app.get(pattern, routes.withoutBody(pattern, handler));

  for (const [pattern, handler] of Object.entries(deps.postRoutes)) {
    app.post(pattern, routes.withBody(pattern, handler));
    app.any(pattern, (res) => respond(res, pattern, errorResponse(new HubError('method_not_allowed', 'Use POST'), { Allow: 'POST' })));
  }

  for (const [pattern, handler] of Object.entries(deps.anyMethodRoutes ?? {})) {
    app.get(pattern, routes.withoutBody(pattern, handler));
    app.post(pattern, routes.withBody(pattern, handler, 'post'));
    app.put(pattern, routes.withBody(pattern, handler, 'put'));
    app.patch(pattern, routes.withBody(pattern, handler, 'patch'));
    app.del(pattern, routes.withBody(pattern, handler, 'delete'));
  }

  app.any('/*', (res, req) => respond(res, UNMATCHED_ROUTE, errorResponse(new HubError('not_found', `No route for ${req.getMethod().toUpperCase()} ${req.getUrl()}`))));

  return {
    publisher: { publish: (topic, frame) => void app.publish(topic, frame, false, compress) },
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

/** Route labels of responses that match no REST route: refused upgrades, and requests for no route. */
const WS_ROUTE = '/websocket';
const UNMATCHED_ROUTE = 'unmatched';

/** Decodes frames without a Buffer per frame; invalid UTF-8 becomes U+FFFD and a BOM is kept, as with Buffer#toString. */
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

const asText = (address: ArrayBuffer): string => Buffer.from(address).toString('latin1');

/**
 * Every line of header `name` joined with ',' (as HTTP defines repeated fields): uWS's getHeader
 * returns only the first, which a proxy appending its own line would leave as the client's spoof.
 */
function headerLines(req: uWS.HttpRequest, name: string): string {
  let value = '';
  req.forEach((key, v) => {
    if (key === name) value = value === '' ? v : `${value},${v}`;
  });
  return value;
}

/** uWS reads the files once, here: the listening socket keeps this certificate until it closes. */
function sslApp(tls: TlsFiles): uWS.TemplatedApp {
  const chain = chainFile(tls);
  try {
    return uWS.SSLApp({ cert_file_name: chain.path, key_file_name: tls.keyFile, ...(tls.passphrase === undefined ? {} : { passphrase: tls.passphrase }) });
  } finally {
    // The chain copy is needed only while uWS reads it.
    chain.dispose();
  }
}
