/**
 * REST over uWS: reading a request (synchronously, inside the callback), its body, running the
 * handler and writing the response with its `X-Request-Id`. The transport registers the routes.
 */
import { STATUS_CODES } from 'node:http';
import { nanoid } from 'nanoid';
import type uWS from 'uWebSockets.js';
import { HubError } from '../errors.js';
import { EncodedBody, RawBody, errorResponse, type RestRequest, type RestResponse } from '../http/request.js';
import type { Logger } from '../log.js';
import type { MaybePromise } from '../maybe.js';

const EMPTY_BODY = Buffer.alloc(0);

/**
 * Header names and values uWS is handed on every request, encoded once: uWS converts each string
 * argument to UTF-8 in a fresh allocation per call, and takes an ArrayBuffer as it is.
 */
const ascii = (text: string): ArrayBuffer => new TextEncoder().encode(text).buffer as ArrayBuffer;
const H = {
  authorization: ascii('authorization'),
  apiKey: ascii('x-api-key'),
  contentType: ascii('content-type'),
  contentLength: ascii('content-length'),
  ContentType: ascii('Content-Type'),
  RequestId: ascii('X-Request-Id'),
  json: ascii('application/json'),
} as const;
/** Writes one response for `route` (the pattern it is counted under). */
export type Respond = (res: uWS.HttpResponse, route: string, response: RestResponse, closeConnection?: boolean, requestId?: string) => void;

type Handler = (req: RestRequest) => MaybePromise<RestResponse>;

/** A request's method as uWS's getMethod() spells it (lower case; `delete`, though routes register `del`). */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteContext {
  readonly respond: Respond;
  readonly log: Logger;
  readonly maxBodyBytes: number;
  /** The client address (see client-address.ts); called inside the uWS callback. */
  readonly clientIp: (res: uWS.HttpResponse, req: uWS.HttpRequest) => string;
  /**
   * Set when the client address is the TCP peer's alone (no trusted proxies): it needs only `res`,
   * so a request reads it when something first asks (see RouteRequest), not on every request.
   */
  readonly peerIp: ((res: uWS.HttpResponse) => string) | null;
}

/**
 * uWS handlers for REST routes. What depends only on the pattern (its `:params`, whether it takes
 * an API key) is worked out once per route, not per request.
 */
export function routeHandlers(ctx: RouteContext) {
  const { respond, log, maxBodyBytes } = ctx;
  const reader = (pattern: string, method: HttpMethod) => {
    const params = pattern.split(':').length - 1;
    // Only the server API (/api/...) takes a key: other routes skip the header lookup.
    const readsApiKey = pattern.startsWith('/api/');
    const { peerIp, clientIp } = ctx;
    return (res: uWS.HttpResponse, req: uWS.HttpRequest) => new RouteRequest(res, req, method, params, readsApiKey, peerIp ?? clientIp(res, req), log);
  };
  return {
    /** A route whose request has no body (GET). */
    withoutBody(pattern: string, handler: Handler) {
      const read = reader(pattern, 'get');
      return (res: uWS.HttpResponse, req: uWS.HttpRequest) => answer(res, pattern, respond, handler, read(res, req));
    },
    /**
     * Reads the body (up to maxBodyBytes: else 413 and the connection closed), then runs the
     * handler. `method`: the one the route is registered for (so no request asks uWS for it).
     */
    withBody(pattern: string, handler: Handler, method: HttpMethod = 'post') {
      const read = reader(pattern, method);
      return (res: uWS.HttpResponse, req: uWS.HttpRequest) => {
        const request = read(res, req);
        const requestId = request.requestId;
        if (Number(req.getHeader(H.contentLength) || '0') > maxBodyBytes) return respond(res, pattern, tooLarge(maxBodyBytes), true, requestId);
        let aborted = false;
        res.onAborted(() => {
          aborted = true;
        });
        readBody(res, maxBodyBytes, (body) => {
          if (body === null) {
            if (!aborted) respond(res, pattern, tooLarge(maxBodyBytes), true, requestId);
            aborted = true;
            return;
          }
          request.body = body;
          answer(res, pattern, respond, handler, request, () => aborted);
        });
      };
    },
  };
}

/**
 * Everything a handler sees of a request, read in the uWS callback (`req` is valid only then); the
 * body (POST) is set once read. Each request gets an id and a logger whose lines carry it.
 *
 * Without trusted proxies the client address is the TCP peer's, and most requests (walker calls)
 * never need it: it is read from `res` the first time something asks (a log line, a per-IP
 * limit). `res` may only be asked until the response is sent, so answer() settles the address
 * before a handler's work goes async, and releases `res` once a synchronous answer is written: a
 * line logged after that by work the handler left behind says `unknown`.
 */
class RouteRequest implements RestRequest {
  readonly name: string;
  readonly node?: string;
  readonly method: string;
  readonly query: string;
  readonly authorization: string;
  readonly apiKey: string;
  readonly contentType: string;
  readonly requestId = nextRequestId();
  readonly log: Logger;
  body: Buffer = EMPTY_BODY;
  private address: string | null;
  private res: uWS.HttpResponse | null;
  private readPeer: ((res: uWS.HttpResponse) => string) | null = null;

  constructor(res: uWS.HttpResponse, req: uWS.HttpRequest, method: HttpMethod, params: number, readsApiKey: boolean, ip: string | ((res: uWS.HttpResponse) => string), log: Logger) {
    this.name = params > 0 ? safeDecode(req.getParameter(0) ?? '') : '';
    if (params > 1) this.node = safeDecode(req.getParameter(1) ?? '');
    this.method = method;
    this.query = req.getQuery() ?? '';
    this.authorization = req.getHeader(H.authorization);
    this.apiKey = readsApiKey ? req.getHeader(H.apiKey) : '';
    this.contentType = req.getHeader(H.contentType);
    if (typeof ip === 'string') {
      this.address = ip;
      this.res = null;
    } else {
      this.address = null;
      this.res = res;
      this.readPeer = ip;
    }
    // Bindings given as a function are read when the logger first writes a line (log.ts).
    this.log = log.child(() => ({ request_id: this.requestId, ip: this.ip }));
  }

  get ip(): string {
    if (this.address === null) this.address = this.res !== null && this.readPeer !== null ? this.readPeer(this.res) : 'unknown';
    return this.address;
  }

  /** Reads the address now, while `res` may still be asked (before the handler's work goes async). */
  settle(): void {
    void this.ip;
    this.res = null;
  }

  /** The response is written: `res` may no longer be asked. */
  release(): void {
    this.res = null;
  }
}

/**
 * Runs a route handler and writes its response: inside this callback when the work was
 * synchronous, else corked after the await (and not at all once the client has gone).
 */
function answer(res: uWS.HttpResponse, pattern: string, respond: Respond, handler: Handler, request: RouteRequest, isAborted?: () => boolean): void {
  const requestId = request.requestId;
  let response: MaybePromise<RestResponse>;
  try {
    response = handler(request);
  } catch (err) {
    // Handlers are not meant to throw; never let one take the process down.
    request.log.error('route failed', { route: pattern, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    response = errorResponse(new HubError('internal'));
  }
  if (!(response instanceof Promise)) {
    respond(res, pattern, response, false, requestId);
    request.release();
    return;
  }
  request.settle();
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
      request.log.error('route failed', { route: pattern, error: String(err) });
      if (!gone()) res.cork(() => respond(res, pattern, errorResponse(new HubError('internal')), false, requestId));
    },
  );
}

const statusLines = new Map<number, ArrayBuffer>();

function tooLarge(limit: number): RestResponse {
  return errorResponse(new HubError('payload_too_large', `Body exceeds ${limit} bytes`));
}

/** Request ids: a random prefix per process and a counter (unique across nodes and restarts, and cheap). */
const requestIdPrefix = `${nanoid(8)}-`;
let requestSeq = 0;
export function nextRequestId(): string {
  return requestIdPrefix + (++requestSeq).toString(36);
}

/** Every HTTP response carries an `X-Request-Id`: the one in the request's log lines, or a fresh one. */
export function writeResponse(res: uWS.HttpResponse, response: RestResponse, closeConnection: boolean, requestId: string): void {
  let line = statusLines.get(response.status);
  if (line === undefined) statusLines.set(response.status, (line = ascii(`${response.status} ${STATUS_CODES[response.status] ?? ''}`)));
  res.writeStatus(line);
  const body = response.body;
  res.writeHeader(H.ContentType, body instanceof RawBody ? body.contentType : H.json);
  res.writeHeader(H.RequestId, requestId);
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
    // The chunk is neutered after this callback: copy it (once, for the usual one-chunk body), into
    // Node's pooled memory for small bodies rather than a fresh ArrayBuffer (a malloc each).
    const copy = Buffer.from(new Uint8Array(chunk));
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
