/**
 * The `walker-hub` command when `--workers` is more than 1: it runs no hub itself, only the
 * supervisor of its workers (supervisor.ts), and answers the signals the single-process command
 * answers: the first SIGTERM/SIGINT drains every worker, a second ends them at once.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { DataDirLockedError, lockDataDir, type DataDirLock } from '../store/data-dir-lock.js';
import { Supervisor, WorkerStartError, type ListeningMessage } from './supervisor.js';

/** A worker's drain bound is drainTimeoutMs + CLOSE_GRACE_MS + EXIT_MARGIN_MS (cli.ts); past this much more (ms) it is killed. */
const STOP_MARGIN_MS = 3000;

export async function runWorkers(config: Config, argv: readonly string[], log: Logger): Promise<number> {
  const entry = process.argv[1];
  if (entry === undefined) throw new Error('cannot tell which script to fork for the workers');
  // The embedded store: the workers share the data folder (LMDB lets processes share its file), so
  // the supervisor holds its lock for them all, and a second hub (or supervisor) on it is refused.
  let lock: DataDirLock | undefined;
  if (config.mongodbUrl === undefined) {
    try {
      lock = lockDataDir(config.dataDir);
    } catch (err) {
      if (!(err instanceof DataDirLockedError)) throw err;
      log.error(`start-up failed: ${err.message}`);
      return 1;
    }
  }
  try {
    return await superviseWorkers(config, argv, log, entry);
  } finally {
    lock?.release();
  }
}

async function superviseWorkers(config: Config, argv: readonly string[], log: Logger, entry: string): Promise<number> {
  // Tokens one worker issues must verify on every other: without a configured secret they share
  // one random secret (new at each start of the supervisor, as a single process makes one).
  const env = { ...process.env, ...(config.jwtSecret === undefined ? { WALKER_HUB_JWT_SECRET: randomBytes(32).toString('base64url') } : {}) };
  const scheme = config.tlsCert === undefined ? 'http' : 'https';
  const url = (port: number) => `${scheme}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const supervisor = new Supervisor({
    workers: config.workers,
    port: config.port,
    metricsPort: config.metricsPort,
    stopTimeoutMs: config.drainTimeoutMs + STOP_MARGIN_MS,
    command: { entry, execArgv: process.execArgv, args: argv, env },
    log,
    // Scripts learn each worker (and each restart) as it listens, before the `listening` line.
    onListening: (w) => {
      if (config.announce) process.stdout.write(JSON.stringify({ worker: w.index, pid: w.pid, restarts: w.restarts, metrics_port: w.metricsPort }) + '\n');
    },
  });
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn(`${signal} again: passing it on, so the workers exit without waiting for their drains`);
        supervisor.forward(signal);
        return;
      }
      stopping = true;
      log.info(`${signal}: stopping ${config.workers} workers`);
      supervisor.stop(signal).then(resolve, (err: unknown) => {
        log.error('stopping the workers failed', { error: String(err) });
        resolve(1);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  // With TLS, SIGHUP makes each worker re-check its certificate files; without, it ends the
  // supervisor as Node's default, and the workers, losing their IPC channel, drain and exit.
  if (config.tlsCert !== undefined) process.on('SIGHUP', () => supervisor.forward('SIGHUP'));
  let port: number;
  try {
    port = await supervisor.start();
  } catch (err) {
    if (err instanceof WorkerStartError) {
      log.error(err.message);
      return err.exitCode === 2 ? 2 : 1;
    }
    throw err;
  }
  log.info(`walker hub: ${config.workers} workers listening on ${url(port)}`, { worker_pids: supervisor.pids() });
  if (config.announce) process.stdout.write(JSON.stringify({ listening: url(port), port, workers: config.workers }) + '\n');
  return stopped;
}

/** In a worker: tells the supervisor the hub listens. No-op in a process started without an IPC channel. */
export function reportListening(message: Omit<ListeningMessage, 'type'>): void {
  const full: ListeningMessage = { type: 'walker-hub:listening', ...message };
  process.send?.(full);
}
