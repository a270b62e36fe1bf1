/**
 * What REST handlers see of a request and return as a response, socket-free (the transport reads
 * the request and writes the response). Body size (413) is enforced by the transport while reading.
 */
import { HubError, type ErrorBody } from '../errors.js';
import type { Logger } from '../log.js';

export interface RestRequest {
  /** The path parameter (a walker name), '' for routes without one. */
  readonly name: string;
  /** The second path parameter (`/walker/:name/:node`), when the route has one. */
  readonly node?: string;
  /** The HTTP method, lower case (uWS spells it so); absent means POST. */
  readonly method?: string;
  /** The raw query string ('' when absent). */
  readonly query: string;
  /** The raw `Authorization` header ('' when absent). */
  readonly authorization: string;
  /** The raw `X-API-Key` header ('' when absent or not read, as on GET routes). */
  readonly apiKey?: string;
  /** The raw `Content-Type` header ('' when absent). */
  readonly contentType: string;
  /** The caller's IP address as text (the TCP peer; no proxy headers are trusted). */
  readonly ip: string;
  readonly body: Buffer;
  /** This request's logger: its lines carry the `request_id` also sent as `X-Request-Id`. */
  readonly log?: Logger;
}

/** A body that is already JSON text (walker reports are encoded where the walker produced them). */
export class EncodedBody {
  constructor(readonly json: string) {}
}

/** A body that is not JSON (a page, a script, metrics text): its bytes and their content type. */
export class RawBody {
  constructor(
    readonly contentType: string,
    readonly bytes: string | Buffer,
  ) {}
}

export interface RestResponse {
  readonly status: number;
  readonly body: EncodedBody | RawBody | { status: number; error: ErrorBody } | Record<string, unknown>;
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
