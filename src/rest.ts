/**
 * REST: `POST /walker/:name` and `GET /healthz`, socket-free (the transport reads the request and
 * writes whatever these return). Body size (413) is enforced by the transport while reading.
 */
import { bearerToken, publicIdentity, type Authenticator, type Identity } from './auth.js';
import { HubError, type ErrorBody } from './errors.js';
import type { WalkerRunner } from './walkers/runner.js';

export interface RestRequest {
  readonly name: string;
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

export function createWalkerRoute(runner: WalkerRunner, authenticator: Authenticator) {
  return async (req: RestRequest): Promise<RestResponse> => {
    const walker = runner.get(req.name);
    if (!walker) return errorResponse(new HubError('unknown_walker', `Unknown walker "${req.name.slice(0, 128)}"`));
    if (!walker.methods.has('post')) return errorResponse(new HubError('method_not_allowed', `Walker ${walker.name} is not open to POST`));
    let identity: Identity = publicIdentity;
    const token = bearerToken(req.authorization);
    if (token !== null) {
      try {
        identity = await authenticator.verify(token);
      } catch (err) {
        return errorResponse(err instanceof HubError ? err : new HubError('invalid_token'));
      }
    }
    let input: unknown = {};
    if (req.body.length > 0) {
      if (!JSON_TYPE.test(req.contentType)) return errorResponse(new HubError('unsupported_media_type'));
      try {
        input = JSON.parse(req.body.toString('utf8'));
      } catch {
        return errorResponse(new HubError('invalid_json', 'Body is not valid JSON'));
      }
    }
    const outcome = await runner.run(walker, { via: 'post', input, identity, clientId: null, channelId: null, node: null });
    if (!outcome.ok) return errorResponse(outcome.error);
    return { status: 200, body: { status: 200, reports: outcome.reports } };
  };
}
