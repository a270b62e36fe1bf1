/**
 * Stops accepting connections while the process is close to its open-file limit, and resumes once
 * well below it (hysteresis). Without it, uWS keeps retrying `accept` on EMFILE and burns a core for
 * as long as connections keep arriving; with the listen socket closed the kernel refuses them
 * instead, at no cost to the hub. Sockets that never upgrade (plain TCP, HTTP keep-alive) count too,
 * which is why this polls the descriptor count rather than counting WebSockets.
 */

export interface AcceptGuardOptions {
  /** The open-file limit. */
  readonly limit: number;
  /** Pause when fewer than this many descriptors are free. */
  readonly pauseBelowFree: number;
  /** Resume when at least this many are free again (> pauseBelowFree). */
  readonly resumeAtFree: number;
  /** Poll period, ms: the longest uWS may spin on EMFILE before the guard notices. */
  readonly intervalMs: number;
  /** Descriptors open now (null = unknown: leave things as they are). */
  count(): number | null;
  /** Close the listen socket. */
  pause(open: number): void;
  /** Listen again; resolves false when that failed (tried again on the next poll). */
  resume(open: number): Promise<boolean>;
}

/** 32 free descriptors: room for the store, a log rotation and a few health checks at the pause. */
export const PAUSE_BELOW_FREE = 32;
/** Resume with three times that free, so a steady flood does not flap the listen socket every poll. */
export const RESUME_AT_FREE = 96;
export const GUARD_INTERVAL_MS = 100;

export class AcceptGuard {
  private timer: NodeJS.Timeout | null = null;
  private paused = false;
  private resuming = false;
  private stopped = false;

  constructor(private readonly options: AcceptGuardOptions) {}

  get accepting(): boolean {
    return !this.paused;
  }

  start(): void {
    this.timer = setInterval(() => this.check(), this.options.intervalMs);
    // Idle polling must not keep the process alive; while paused it must (no listen socket does).
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One poll (the timer's; public for tests). */
  check(): void {
    if (this.resuming || this.stopped) return;
    const open = this.options.count();
    if (open === null) return;
    const free = this.options.limit - open;
    if (!this.paused && free < this.options.pauseBelowFree) {
      this.paused = true;
      this.timer?.ref();
      this.options.pause(open);
    } else if (this.paused && free >= this.options.resumeAtFree) {
      this.resuming = true;
      void this.options.resume(open).then(
        (ok) => this.resumed(ok),
        () => this.resumed(false),
      );
    }
  }

  private resumed(ok: boolean): void {
    this.resuming = false;
    // A resume that finishes after stop() changes nothing: the transport is closing.
    if (!ok || this.stopped) return;
    this.paused = false;
    this.timer?.unref();
  }
}
