/** `walker-hub` command: parse config once, load walkers, listen, shut down cleanly on signals. */
import { reportListening, runWorkers } from './cluster/run.js';
import { configHelp, ConfigError, loadConfig } from './config.js';
// Before any walker loads: registers the API that require('walker-hub') hands CommonJS walkers (index.ts).
import './index.js';
import { LogLimiter } from './log-limiter.js';
import { createLogger } from './log.js';
import { CLOSE_GRACE_MS, createHub, LOG_INTERVAL_MS } from './node.js';
import { describeThrown } from './walkers/thrown.js';
import { chooseWalkersFolder } from './walkers/folder.js';
import { WalkerLoadError } from './walkers/loader.js';
import { walkerCaused } from './walkers/uncaught.js';
import { chooseCollectionsFolder } from './collections/loader.js';

/** How long past the drain's own bound (ms) the command waits before it exits regardless. */
const EXIT_MARGIN_MS = 500;

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(configHelp() + '\n');
    return 0;
  }
  let config;
  try {
    config = loadConfig(argv, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      return 2;
    }
    throw err;
  }
  const explicit = process.env.WALKER_HUB_WALKERS !== undefined || argv.some((a) => a === '--walkers' || a.startsWith('--walkers='));
  const walkers = chooseWalkersFolder(config.walkersDir, explicit);
  if ('error' in walkers) {
    // A configuration problem like a bad flag: one line, status 2.
    process.stderr.write(`Invalid configuration: ${walkers.error}\n`);
    return 2;
  }
  if (walkers.dir !== config.walkersDir) config = Object.freeze({ ...config, walkersDir: walkers.dir });
  // Collections: the configured folder, else ./collections when there is one (none otherwise).
  const collectionsDir = chooseCollectionsFolder(config.collectionsDir);
  if (collectionsDir !== config.collectionsDir) config = Object.freeze({ ...config, collectionsDir });
  const root = createLogger(config.logLevel, config.logFormat);
  if (walkers.note !== undefined && config.workerId === undefined) root.info(walkers.note);
  // Several workers: this process only supervises them (cluster/run.ts); each worker logs its index.
  if (config.workers > 1) return runWorkers(config, argv, root.child({ supervisor: true }));
  const log = config.workerId === undefined ? root : root.child({ worker: config.workerId });
  // Last line of defence: a promise that walker code dropped (work it neither awaits nor returns,
  // or zod losing a pending async refinement when a sibling check throws) would otherwise end the
  // process for every user. Logged (limited like other client-triggered lines), not fatal.
  const rejections = config.logLimit > 0 ? new LogLimiter({ lines: config.logLimit, intervalMs: LOG_INTERVAL_MS }).wrap(log) : log;
  process.on('unhandledRejection', (reason) => rejections.error('unhandled promise rejection (detached walker work?)', { error: describeThrown(reason) }));
  // The same for an exception thrown from a walker's own timer or event callback, when it is the
  // walker's (walkers/uncaught.ts); any other uncaught exception still ends the process, as Node
  // would end it (exit code 1), after logging it.
  const byWalker = walkerCaused(config.walkersDir);
  process.on('uncaughtException', (err) => {
    if (byWalker(err)) {
      rejections.error('uncaught exception in walker code (a timer or callback of its own); the hub keeps serving', { error: describeThrown(err) });
      return;
    }
    log.error('uncaught exception: exiting', { error: describeThrown(err) });
    process.exit(1);
  });
  let running;
  try {
    running = await createHub({ config, log });
  } catch (err) {
    // A bad channels file is a configuration problem, like a bad flag: every problem, exit 2.
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      return 2;
    }
    if (err instanceof WalkerLoadError) log.error(err.message);
    else log.error(`start-up failed: ${(err as Error).message}`);
    return 1;
  }
  // Signal handlers go in before the hub announces itself: a script may send SIGTERM as soon as
  // it reads the announcement.
  // The first signal drains (bounded by drainTimeoutMs) and exits 0; a second one exits at once,
  // with 128 + the signal's number as a shell reports a process killed by it. The drain bounds its
  // own steps (drainTimeoutMs + CLOSE_GRACE_MS); should anything still hold the process, it exits 1
  // at EXIT_MARGIN_MS past that.
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn(`${signal} again: exiting now, without waiting for the drain`);
        process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
      }
      stopping = true;
      log.info(`${signal}: shutting down`);
      const lastResortMs = config.drainTimeoutMs + CLOSE_GRACE_MS + EXIT_MARGIN_MS;
      setTimeout(() => {
        log.error('shutdown did not finish in time; exiting now', { after_ms: lastResortMs });
        process.exit(1);
      }, lastResortMs).unref();
      running.drain().then(
        () => resolve(0),
        (err: unknown) => {
          log.error('shutdown failed', { error: String(err) });
          resolve(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    // A worker whose supervisor is gone (killed, say) drains and exits rather than hold the port alone.
    if (config.workerId !== undefined) process.once('disconnect', () => stop('SIGTERM'));
  });
  // With TLS, SIGHUP re-reads the certificate files (as nginx does) instead of ending the process;
  // without TLS, SIGHUP keeps Node's default (exit), as before TLS existed.
  if (config.tlsCert !== undefined) {
    const hub = running;
    process.on('SIGHUP', () => void hub.checkTls());
  }
  if (config.workerId !== undefined) reportListening({ port: running.port, metricsPort: running.metricsPort });
  const names = [...running.walkers.keys()];
  log.info(`walker hub listening on ${running.url} (WebSocket ${running.url.replace(/^http/, 'ws')}/websocket)`, { walkers: names });
  // A machine-readable line for scripts that start the hub on port 0.
  if (config.announce) process.stdout.write(JSON.stringify({ listening: running.url, port: running.port }) + '\n');
  return stopped;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`walker-hub: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
