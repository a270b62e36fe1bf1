/**
 * REST: `POST /walker/:name` and `GET /healthz`, socket-free (the transport reads the request and
 * writes whatever these return). Body size (413) is enforced by the transport while reading.
 */
import { bearerToken, publicIdentity, type Authenticator, type Identity } from './auth.js';
import { HubError, type ErrorBody } from './errors.js';
import { whenReady, type MaybePromise } from './maybe.js';
import type { WalkerRunner } from './walkers/runner.js';

export interface RestRequest {
  /** The path parameter (a walker name), '' for routes without one. */
  readonly name: string;
  /** The raw query string ('' when absent). */
  readonly query: string;
  /** The raw `Authorization` header ('' when absent). */
  readonly authorization: string;
  /** The raw `Content-Type` header ('' when absent). */
  readonly contentType: string;
  readonly body: Buffer;
}

export interface RestResponse {
  readonly status: number;
  readonly body: { status: number; reports: unknown[] } | { status: number; error: ErrorBody } | Record<string, unknown>;
  readonly headers?: Readonly<Record<string, string>>;
}

export function errorResponse(err: HubError, headers?: Record<string, string>): RestResponse {
  return { status: err.status, body: { status: err.status, error: err.toBody() }, ...(headers ? { headers } : {}) };
}

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/** The JSON body of a request: an empty body is `{}`; a non-empty one must be declared JSON (415) and parse (400). */
export function parseJsonBody(req: RestRequest): { ok: true; value: unknown } | { ok: false; error: HubError } {
  if (req.body.length === 0) return { ok: true, value: {} };
  if (!JSON_TYPE.test(req.contentType)) return { ok: false, error: new HubError('unsupported_media_type') };
  try {
    return { ok: true, value: JSON.parse(req.body.toString('utf8')) };
  } catch {
    return { ok: false, error: new HubError('invalid_json', 'Body is not valid JSON') };
  }
}

export function createWalkerRoute(runner: WalkerRunner, authenticator: Authenticator) {
  return (req: RestRequest): MaybePromise<RestResponse> => {
    const walker = runner.get(req.name);
    if (!walker) return errorResponse(new HubError('unknown_walker', `Unknown walker "${req.name.slice(0, 128)}"`));
    if (!walker.methods.has('post')) return errorResponse(new HubError('method_not_allowed', `Walker ${walker.name} is not open to POST`));
    let identity: Identity = publicIdentity;
    const token = bearerToken(req.authorization);
    if (token !== null) {
      try {
        identity = authenticator.verify(token);
      } catch (err) {
        return errorResponse(err instanceof HubError ? err : new HubError('invalid_token'));
      }
    }
    const body = parseJsonBody(req);
    if (!body.ok) return errorResponse(body.error);
    const outcome = runner.run(walker, { via: 'post', input: body.value, identity, clientId: null, channelId: null, node: null });
    return whenReady(outcome, (done): RestResponse => (done.ok ? { status: 200, body: { status: 200, reports: done.reports } } : errorResponse(done.error)));
  };
}
