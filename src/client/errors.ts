/** The one error type the SDK rejects with: a hub error reply, a timeout, or a dropped link. */
import type { WireError } from '../protocol.js';

/** Codes the SDK itself produces; every other code is the hub's (see docs/protocol.md, errors and close codes). */
export type ClientErrorCode = 'timeout' | 'disconnected' | 'closed' | 'no_websocket' | 'upgrade_refused';

export class HubClientError extends Error {
  override readonly name = 'HubClientError';
  /** The hub's HTTP-style status (0 for errors made by the SDK: timeout, disconnected, closed, no_websocket). */
  readonly status: number;
  readonly code: string;
  readonly issues: WireError['issues'];
  /** Set on `internal` errors: the same id is in the hub's log next to the stack. */
  readonly errorId: string | undefined;

  constructor(status: number, error: WireError | { code: ClientErrorCode; message: string }) {
    super(error.message);
    this.status = status;
    this.code = error.code;
    this.issues = 'issues' in error ? error.issues : undefined;
    this.errorId = 'error_id' in error ? error.error_id : undefined;
  }
}
