/**
 * The listen socket's life: bind, the open-file guard's pause and resume on the same port, close.
 * Socket-free: uws.ts passes the three uWS operations it needs, so only uws.ts imports uWS.
 */
import type { Logger } from '../log.js';
import { AcceptGuard, GUARD_INTERVAL_MS, PAUSE_BELOW_FREE, RESUME_AT_FREE } from './accept-guard.js';
import { openFileCount, openFileLimit } from './open-files.js';

export interface ListenOps<S> {
  /** Listens on the transport's host; resolves null when the port is taken or unavailable. */
  bind(port: number): Promise<S | null>;
  unbind(socket: S): void;
  portOf(socket: S): number;
}

export interface ListenerOptions {
  readonly host: string;
  readonly port: number;
  /** Stop accepting near the open-file limit (see accept-guard.ts); needs Linux's /proc. */
  readonly fdGuard: boolean;
}

export class Listener<S> {
  private socket: S | null = null;
  private port: number;
  private closed = false;
  private readonly guard: AcceptGuard | null;

  constructor(
    private readonly ops: ListenOps<S>,
    private readonly options: ListenerOptions,
    private readonly log: Logger,
  ) {
    this.port = options.port;
    const limit = options.fdGuard ? openFileLimit() : null;
    this.guard =
      limit === null
        ? null
        : new AcceptGuard({
            limit,
            pauseBelowFree: PAUSE_BELOW_FREE,
            resumeAtFree: RESUME_AT_FREE,
            intervalMs: GUARD_INTERVAL_MS,
            count: openFileCount,
            pause: (open) => {
              log.warn('near the open-file limit: not accepting connections', { open_files: open, limit });
              this.unbind();
            },
            resume: async (open) => {
              const ok = await this.bind(this.port);
              if (ok) log.info('accepting connections again', { open_files: open, limit });
              else log.error('could not listen again; retrying', { port: this.port });
              return ok;
            },
          });
  }

  /** False while the guard has stopped accepting. */
  get accepting(): boolean {
    return this.guard?.accepting ?? true;
  }

  /** Resolves with the bound port (the one picked, for port 0). */
  async listen(): Promise<number> {
    const { host, port } = this.options;
    const fail = () => new Error(`could not listen on ${host}:${port} (address in use or not available)`);
    if (!(await this.bind(port))) throw fail();
    if (port === 0) {
      // uSockets sets SO_REUSEADDR and SO_REUSEPORT only when listening on a given port. Without
      // them the sockets accepted on an ephemeral port block listening there again (EADDRINUSE)
      // after a guard pause, and `--workers` cannot start more hubs on the port the first picked.
      // So the port picked is re-bound as a given port before any connection arrives.
      this.unbind();
      if (!(await this.bind(this.port))) throw fail();
    }
    this.guard?.start();
    return this.port;
  }

  close(): void {
    this.closed = true;
    this.guard?.stop();
    this.unbind();
  }

  private async bind(port: number): Promise<boolean> {
    if (this.closed) return false;
    const socket = await this.ops.bind(port);
    if (socket === null) return false;
    // A close() while binding wins: the new socket is closed at once.
    if (this.closed) {
      this.ops.unbind(socket);
      return false;
    }
    this.socket = socket;
    this.port = this.ops.portOf(socket);
    return true;
  }

  private unbind(): void {
    if (this.socket !== null) this.ops.unbind(this.socket);
    this.socket = null;
  }
}
