/**
 * Child processes of the benchmark: spawned with tsx and an IPC channel, tracked in one set so
 * every one of them is killed at the end, on error and on Ctrl-C. Children also exit by themselves
 * when the IPC channel closes (see bench/servers/child.ts and bench/load/worker.ts), so a crashed
 * orchestrator leaves nothing behind.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');

interface Waiter<Out> {
  match: (m: Out) => boolean;
  resolve: (m: Out) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const live = new Set<Child<unknown, unknown>>();
/** Set by stopAll: from then on nothing new is spawned. */
let shuttingDown = false;

export function isShuttingDown(): boolean {
  return shuttingDown;
}

export class Child<In, Out> {
  readonly pid: number;
  private readonly inbox: Out[] = [];
  private readonly waiters = new Set<Waiter<Out>>();
  private exitError: Error | null = null;
  /** A failure reported while nobody was waiting: the next `next()` rejects with it. */
  private pendingFailure: Error | null = null;
  private readonly exited: Promise<void>;
  /** The end of the child's stderr (it is also passed through), quoted when it exits early. */
  private stderrTail = '';

  constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
    /** Returns a message when `m` reports a failure of the child. */
    private readonly failure: (m: Out) => string | null,
  ) {
    if (proc.pid === undefined) throw new Error(`${name}: could not be started`);
    this.pid = proc.pid;
    proc.on('message', (raw) => this.receive(raw as Out));
    proc.on('error', (err) => {
      this.pendingFailure ??= new Error(`${name}: ${err.message}`);
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-4000);
    });
    this.exited = new Promise((done) => {
      proc.once('exit', (code, signal) => {
        live.delete(this as Child<unknown, unknown>);
        const lastError = /^\w*Error\b.*$/m.exec(this.stderrTail)?.[0] ?? this.stderrTail.trim().split('\n').pop() ?? '';
        this.exitError = new Error(`${name} exited (${signal ?? `code ${code ?? '?'}`})${lastError ? `: ${lastError.slice(0, 300)}` : ''}`);
        for (const w of [...this.waiters]) this.settle(w, () => w.reject(this.exitError as Error));
        done();
      });
    });
    live.add(this as Child<unknown, unknown>);
  }

  send(message: In): void {
    if (this.exitError) throw this.exitError;
    if (!this.proc.connected) throw new Error(`${this.name}: its IPC channel is closed`);
    // With a callback, a failed send is reported here instead of as an 'error' event.
    this.proc.send(message as object, (err) => {
      if (err) this.pendingFailure ??= new Error(`${this.name}: ${err.message}`);
    });
  }

  /** The next message (already queued or still to come) that `match` accepts; earlier ones stay queued. */
  next<T extends Out>(match: (m: Out) => m is T, timeoutMs: number, what: string): Promise<T> {
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as T);
    if (this.pendingFailure) {
      const err = this.pendingFailure;
      this.pendingFailure = null;
      return Promise.reject(err);
    }
    if (this.exitError) return Promise.reject(this.exitError);
    return new Promise<T>((resolvePromise, reject) => {
      const waiter: Waiter<Out> = {
        match,
        resolve: (m) => resolvePromise(m as T),
        reject,
        timer: setTimeout(() => this.settle(waiter, () => reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms`))), timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** SIGTERM, then SIGKILL if still alive after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.exitError) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  get alive(): boolean {
    return this.exitError === null;
  }

  /** Forgets queued messages and failures (between runs). */
  reset(): void {
    this.inbox.length = 0;
    this.pendingFailure = null;
  }

  /** Moves every thread of the running child onto `cpus` (a taskset list). */
  pin(cpus: string): void {
    execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cpus, String(this.pid)], { stdio: 'ignore' });
  }

  killNow(): void {
    if (!this.exitError) this.proc.kill('SIGKILL');
  }

  private receive(message: Out): void {
    const failed = this.failure(message);
    if (failed !== null) {
      const err = new Error(`${this.name}: ${failed}`);
      if (this.waiters.size === 0) this.pendingFailure ??= err;
      for (const w of [...this.waiters]) this.settle(w, () => w.reject(err));
      return;
    }
    for (const w of this.waiters) {
      if (w.match(message)) return this.settle(w, () => w.resolve(message));
    }
    this.inbox.push(message);
  }

  private settle(w: Waiter<Out>, action: () => void): void {
    clearTimeout(w.timer);
    this.waiters.delete(w);
    action();
  }
}

/**
 * Starts `node [execArgv] --import tsx <script>` in the repository root with an IPC channel; with
 * `cpus` (a taskset list such as "0" or "1-3"), pinned to those CPUs (taskset execs node, so the
 * child's pid is node's).
 */
export function spawnTs<In, Out>(
  name: string,
  script: string,
  failure: (m: Out) => string | null,
  execArgv: readonly string[] = [],
  cpus: string | null = null,
  /** Given to the script (after its path). */
  scriptArgs: readonly string[] = [],
  /** Added to this process's environment (the cluster scenario passes each hub node its Redis). */
  env: Readonly<Record<string, string>> = {},
): Child<In, Out> {
  if (shuttingDown) throw new Error(`${name}: not started, the benchmark is shutting down`);
  const node = [process.execPath, ...execArgv, '--import', 'tsx', resolve(repoRoot, script), ...scriptArgs];
  const [command, ...args] = cpus === null ? node : ['taskset', '-c', cpus, ...node];
  const proc = spawn(command as string, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    // Typed arrays (latency samples) cross the channel without a JSON round trip.
    serialization: 'advanced',
  });
  return new Child<In, Out>(name, proc, failure);
}

/** Stops every child still alive (in parallel, each with its own grace period). */
export async function stopAll(): Promise<void> {
  shuttingDown = true;
  await Promise.all([...live].map((c) => c.stop()));
}

/** Synchronous last resort for `process.on('exit')`. */
export function killAllNow(): void {
  for (const c of live) c.killNow();
}

export function liveCount(): number {
  return live.size;
}
