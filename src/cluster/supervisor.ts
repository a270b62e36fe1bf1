/**
 * `walker-hub --workers N`: N full hub processes on one port, kept running by this supervisor.
 *
 * uWS listens by itself (no node:cluster handle passing), so each worker is the whole `walker-hub`
 * command, forked with `--workers=1 --worker-id=i` appended (later flags win). uSockets sets
 * SO_REUSEPORT on a given port, so every worker binds the same port and the kernel spreads new
 * connections over them; a notification reaches a socket on any worker through the shared Redis
 * broker (config.ts refuses more than one worker without Redis).
 *
 * With port 0, worker 0 starts alone and the others bind the port it picked. A worker that exits
 * unexpectedly is restarted on the same port after a delay that doubles while it keeps failing
 * (RESTART_MIN_MS .. RESTART_MAX_MS, reset once a worker stayed up STABLE_AFTER_MS). SIGTERM and
 * SIGINT are passed to every worker, each drains on its own, and the supervisor waits for them all
 * (at most `stopTimeoutMs`, then SIGKILL).
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log.js';

/** How each worker is started: the command's own entry script, Node flags, arguments and environment. */
export interface WorkerCommand {
  readonly entry: string;
  readonly execArgv: readonly string[];
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

export interface SupervisorOptions {
  readonly workers: number;
  /** The configured port (0: worker 0 picks one, the others share it). */
  readonly port: number;
  /** With a metrics port P, worker i serves `/metrics` on P + i (0: each picks its own). */
  readonly metricsPort: number | undefined;
  /** How long a stop waits for the workers' own drains before it SIGKILLs what is left, ms. */
  readonly stopTimeoutMs: number;
  readonly command: WorkerCommand;
  readonly log: Logger;
  /** Told each time a worker listens: at start, and after every restart. */
  readonly onListening?: (worker: WorkerInfo) => void;
}

export interface WorkerInfo {
  readonly index: number;
  readonly pid: number;
  readonly restarts: number;
  /** Where this worker serves `/metrics` when `metricsPort` is set. */
  readonly metricsPort: number | null;
}

/** What a worker sends its supervisor over the IPC channel once it listens. */
export interface ListeningMessage {
  readonly type: 'walker-hub:listening';
  readonly port: number;
  readonly metricsPort: number | null;
}

export function isListeningMessage(m: unknown): m is ListeningMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'walker-hub:listening' && typeof (m as { port?: unknown }).port === 'number';
}

export const RESTART_MIN_MS = 250;
export const RESTART_MAX_MS = 10_000;
export const STABLE_AFTER_MS = 10_000;

/** A worker ended before it listened while the supervisor was starting: start-up failed with its exit code. */
export class WorkerStartError extends Error {
  constructor(
    readonly index: number,
    readonly exitCode: number,
  ) {
    super(`worker ${index} exited with status ${exitCode} before listening`);
    this.name = 'WorkerStartError';
  }
}

interface Slot {
  readonly index: number;
  child: ChildProcess | null;
  startedAt: number;
  restarts: number;
  /** Consecutive quick failures: the exponent of the restart delay. */
  failures: number;
  timer: NodeJS.Timeout | null;
}

export class Supervisor {
  private readonly slots: Slot[];
  private port: number;
  private stopping = false;

  constructor(private readonly options: SupervisorOptions) {
    this.port = options.port;
    this.slots = Array.from({ length: options.workers }, (_, index) => ({ index, child: null, startedAt: 0, restarts: 0, failures: 0, timer: null }));
  }

  /** Starts every worker; resolves with the shared port once all listen, or stops them all and rejects with WorkerStartError. */
  async start(): Promise<number> {
    const first = this.slots[0];
    try {
      if (this.port === 0 && first) this.port = await this.spawn(first);
      await Promise.all(this.slots.filter((s) => s.child === null).map((s) => this.spawn(s)));
    } catch (err) {
      await this.stop('SIGTERM');
      throw err;
    }
    return this.port;
  }

  /** The live workers' process ids, by index (null while one is being restarted). */
  pids(): Array<number | null> {
    return this.slots.map((s) => s.child?.pid ?? null);
  }

  /** Passes `signal` to every live worker (SIGHUP: re-check TLS files). */
  forward(signal: NodeJS.Signals): void {
    for (const s of this.slots) s.child?.kill(signal);
  }

  /**
   * Stops restarting, passes `signal` to every worker and resolves once all have exited: 0 when
   * every one exited 0, else 1. A worker still running after `stopTimeoutMs` is SIGKILLed.
   */
  async stop(signal: NodeJS.Signals): Promise<number> {
    this.stopping = true;
    const exits: Array<Promise<number>> = [];
    for (const s of this.slots) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = null;
      const child = s.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      exits.push(
        new Promise<number>((resolve) => {
          const late = setTimeout(() => {
            this.options.log.error('worker did not stop in time; killing it', { worker: s.index, worker_pid: child.pid, after_ms: this.options.stopTimeoutMs });
            child.kill('SIGKILL');
          }, this.options.stopTimeoutMs);
          child.once('exit', (code) => {
            clearTimeout(late);
            resolve(code === 0 ? 0 : 1);
          });
        }),
      );
      child.kill(signal);
    }
    const codes = await Promise.all(exits);
    return codes.every((c) => c === 0) ? 0 : 1;
  }

  /** Forks the worker of `slot`; resolves with the port it listens on, rejects if it exits first. */
  private spawn(slot: Slot): Promise<number> {
    const { command, metricsPort } = this.options;
    const ownMetricsPort = metricsPort === undefined ? undefined : metricsPort === 0 ? 0 : metricsPort + slot.index;
    const args = [
      ...command.args,
      '--workers=1',
      `--worker-id=${slot.index}`,
      `--port=${this.port}`,
      '--announce=false',
      ...(ownMetricsPort === undefined ? [] : [`--metrics-port=${ownMetricsPort}`]),
    ];
    const child = fork(command.entry, args, { execArgv: [...command.execArgv], env: command.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    slot.child = child;
    slot.startedAt = performance.now();
    return new Promise<number>((resolve, reject) => {
      let listening = false;
      child.on('message', (m: unknown) => {
        if (listening || !isListeningMessage(m)) return;
        listening = true;
        this.options.log.info('worker listening', { worker: slot.index, worker_pid: child.pid, port: m.port, restarts: slot.restarts });
        this.options.onListening?.({ index: slot.index, pid: child.pid ?? 0, restarts: slot.restarts, metricsPort: m.metricsPort });
        resolve(m.port);
      });
      child.once('exit', (code, signal) => {
        if (slot.child === child) slot.child = null;
        const status = code ?? 128;
        if (!listening) reject(new WorkerStartError(slot.index, status));
        if (this.stopping) return;
        if (!listening && slot.restarts === 0) return; // start(): the caller stops the rest
        this.restartLater(slot, code, signal);
      });
    });
  }

  private restartLater(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    const upMs = performance.now() - slot.startedAt;
    slot.failures = upMs >= STABLE_AFTER_MS ? 0 : slot.failures + 1;
    const delayMs = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** Math.max(0, slot.failures - 1));
    this.options.log.warn('worker exited; restarting it', { worker: slot.index, code, signal, up_ms: Math.round(upMs), restart_in_ms: delayMs });
    slot.timer = setTimeout(() => {
      slot.timer = null;
      if (this.stopping) return;
      slot.restarts++;
      // A restart that fails before listening is logged by its exit, which schedules the next try.
      this.spawn(slot).catch(() => undefined);
    }, delayMs);
  }
}
