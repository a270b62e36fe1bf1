/**
 * Keeps clients from flooding the log. Lines are counted per message (the call site's constant
 * text, so keys are few): past `lines` in one `intervalMs` window they are dropped, and when the
 * window ends one "suppressed N similar lines" line says how many, through the logger (and so with
 * the bindings) of the last line dropped. Only `warn` and `error` are limited: they are what bad
 * input and failing walkers produce; `info` and `debug` volume is the operator's choice of level.
 */
import { systemClock, type Clock, type ClockTimer } from './clock.js';
import type { Bindings, LogFields, Logger } from './log.js';

export interface LogLimitOptions {
  /** Lines written per message and window before the rest are suppressed. */
  readonly lines: number;
  readonly intervalMs: number;
  readonly clock?: Clock;
}

/** Distinct messages tracked at once; beyond it, new messages share one window (memory stays bounded). */
const MAX_KEYS = 1000;
const OVERFLOW_KEY = '(other messages)';

type LimitedLevel = 'warn' | 'error';

interface Window {
  readonly start: number;
  written: number;
  suppressed: number;
  level: LimitedLevel;
  /** The logger of the last suppressed line: the summary carries its bindings. */
  log: Logger;
  timer: ClockTimer | null;
}

export class LogLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly clock: Clock;

  constructor(private readonly options: LogLimitOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** `log` with its `warn` and `error` lines limited (its children share this limiter). */
  wrap(log: Logger): Logger {
    return new LimitedLogger(log, this);
  }

  /** Whether a line may be written now; counts it as suppressed otherwise. */
  allow(msg: string, level: LimitedLevel, log: Logger): boolean {
    const now = this.clock.now();
    let key = msg;
    let window = this.windows.get(key);
    if (window !== undefined && now - window.start >= this.options.intervalMs) {
      this.flush(key, window);
      window = undefined;
    }
    if (window === undefined) {
      if (this.windows.size >= MAX_KEYS) {
        this.sweep(now);
        if (this.windows.size >= MAX_KEYS) key = OVERFLOW_KEY;
      }
      window = this.windows.get(key);
      if (window === undefined) this.windows.set(key, (window = { start: now, written: 0, suppressed: 0, level, log, timer: null }));
    }
    if (window.written < this.options.lines) {
      window.written++;
      return true;
    }
    window.suppressed++;
    window.level = level;
    window.log = log;
    if (window.timer === null) {
      const open = window;
      open.timer = this.clock.setTimeout(() => this.flush(key, open), open.start + this.options.intervalMs - now);
    }
    return false;
  }

  /** Writes every pending summary now (at shutdown) and forgets all windows. */
  close(): void {
    for (const [key, window] of [...this.windows]) this.flush(key, window);
  }

  private flush(key: string, window: Window): void {
    if (this.windows.get(key) === window) this.windows.delete(key);
    if (window.timer !== null) this.clock.clearTimeout(window.timer);
    window.timer = null;
    if (window.suppressed === 0) return;
    const count = window.suppressed;
    window.suppressed = 0;
    window.log[window.level](`suppressed ${count} similar lines`, { suppressed: count, message: key, interval_ms: this.options.intervalMs });
  }

  /** Drops finished windows that suppressed nothing (those with a pending summary flush on their timer). */
  private sweep(now: number): void {
    for (const [key, window] of this.windows) {
      if (window.suppressed === 0 && now - window.start >= this.options.intervalMs) this.windows.delete(key);
    }
  }
}

class LimitedLogger implements Logger {
  constructor(
    private readonly inner: Logger,
    private readonly limiter: LogLimiter,
  ) {}

  debug(msg: string, fields?: LogFields): void {
    this.inner.debug(msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.inner.info(msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    if (this.limiter.allow(msg, 'warn', this.inner)) this.inner.warn(msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    if (this.limiter.allow(msg, 'error', this.inner)) this.inner.error(msg, fields);
  }
  child(bindings: Bindings): Logger {
    return new LimitedLogger(this.inner.child(bindings), this.limiter);
  }
}
