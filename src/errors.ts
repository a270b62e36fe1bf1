/**
 * The one error catalogue. Every error the hub reports, over WebSocket or HTTP, has a code here.
 *
 * Two kinds, as in centrifuge: an error *reply* (an `error` frame, a `walker` frame with a 4xx/5xx
 * status, or an HTTP error body) leaves the connection open; a *disconnect* closes the WebSocket
 * with `closeCode`. Close codes follow RFC 6455; 4xxx are ours. Close reasons must fit in 123 bytes.
 */

export interface CatalogueEntry {
  /** HTTP status used over REST and as `status` in `walker` frames. */
  readonly status: number;
  readonly message: string;
}

export const errorCatalogue = {
  invalid_json: { status: 400, message: 'Frame or body is not valid JSON' },
  binary_frame: { status: 400, message: 'Binary frames are not supported; send JSON text frames' },
  unknown_type: { status: 400, message: 'Unknown frame type' },
  invalid_frame: { status: 400, message: 'Frame does not match the protocol' },
  invalid_credentials: { status: 400, message: 'Invalid email or password' },
  invalid_token: { status: 401, message: 'Token is invalid or expired' },
  unauthorized: { status: 401, message: 'This walker requires an authenticated user' },
  forbidden: { status: 403, message: 'Not allowed' },
  unknown_walker: { status: 404, message: 'Unknown walker' },
  not_found: { status: 404, message: 'Not found' },
  method_not_allowed: { status: 405, message: 'Method not allowed' },
  email_taken: { status: 409, message: 'An account with this email already exists' },
  payload_too_large: { status: 413, message: 'Payload exceeds the configured limit' },
  unsupported_media_type: { status: 415, message: 'Body must be JSON (Content-Type: application/json)' },
  invalid_input: { status: 422, message: 'Input does not match the walker schema' },
  walker_failed: { status: 400, message: 'Walker rejected the request' },
  too_many_requests: { status: 429, message: 'Too many requests in flight on this connection' },
  rate_limited: { status: 429, message: 'Too many requests; slow down and retry later' },
  too_many_connections: { status: 429, message: 'Too many connections from this address' },
  origin_not_allowed: { status: 403, message: 'This Origin may not open a WebSocket on this hub' },
  internal: { status: 500, message: 'Internal error' },
  unavailable: { status: 503, message: 'Server is shutting down' },
  server_full: { status: 503, message: 'The hub is at its connection limit; try again later' },
  presence_unavailable: { status: 503, message: 'Presence cannot be read while the cluster store (Redis) is unreachable' },
  history_unavailable: { status: 503, message: 'Channel history cannot be written or read while the cluster store (Redis) is unreachable' },
  store_unavailable: { status: 503, message: 'The data store is unavailable; try again shortly' },
  walker_timeout: { status: 504, message: 'Walker did not finish in time' },
  unknown_collection: { status: 404, message: 'Unknown collection' },
  invalid_query: { status: 400, message: 'Query does not match the collection' },
  invalid_item: { status: 422, message: 'Item does not match the collection schema' },
  query_too_broad: { status: 422, message: 'The query would examine more items than the embedded store allows; narrow it, sort by creation time, or use MongoDB' },
  item_conflict: { status: 409, message: 'The item kept changing while this write was applied; try again' },
  invalid_api_key: { status: 401, message: 'A valid server API key is required (Authorization: Bearer <key> or X-API-Key)' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof errorCatalogue;

/** One problem found by validation: a path into the input and what is wrong there. */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

/** What is sent to clients: never a stack trace. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  issues?: Issue[];
  /** Set on `internal` errors: the same id is in the server log next to the stack. */
  error_id?: string;
}

/** An error that is safe to show to the client, as-is. */
export class HubError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly issues: Issue[] | undefined;
  readonly errorId: string | undefined;

  constructor(code: ErrorCode, message?: string, options: { issues?: Issue[]; errorId?: string; status?: number } = {}) {
    super(message ?? errorCatalogue[code].message);
    this.name = 'HubError';
    this.code = code;
    this.status = options.status ?? errorCatalogue[code].status;
    this.issues = options.issues;
    this.errorId = options.errorId;
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.issues) body.issues = this.issues;
    if (this.errorId) body.error_id = this.errorId;
    return body;
  }
}

/**
 * WebSocket close codes the hub uses. 1009 and 1001 are standard; the hub never sends a stack or
 * internal detail in a reason.
 */
export const closeCodes = {
  /** Server going away (graceful shutdown). Clients should reconnect later. */
  goingAway: 1001,
  /** A frame over `maxPayloadBytes`. */
  tooBig: 1009,
  /** Still sending frames over the per-connection rate after being told (`rate_limited`) to slow down. */
  rateLimited: 4029,
  /**
   * More replies waiting behind a slow walker than the per-connection budget allows (places in line
   * or characters): replies could no longer be delivered in order without unbounded memory.
   */
  replyBacklog: 4008,
  /** The hub is draining (SIGTERM/SIGINT): reconnect, to another node or to this one once it is back. */
  restarting: 1012,
  /**
   * Over 256 frames or 1 MiB sent while a reply (`subscribed`, `connection`) waited for the broker
   * to confirm a subscription (src/hub/hold.ts). Reconnect, and wait for replies before sending more.
   */
  heldOverflow: 4009,
  /**
   * More than 10,000 live publications arrived for one channel while this socket's recovery read
   * its history (history/streams.ts): they could no longer be kept in order. Reconnect and recover.
   */
  recoveryBacklog: 4010,
  /** The `?channel_id=` channel was refused by its namespace's subscribe walker after the upgrade (one that answered asynchronously). */
  forbiddenChannel: 4403,
} as const;

/** Flattens validation issues (zod's shape) into `{path, message}` pairs with dotted paths. */
export function toIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): Issue[] {
  return issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}
