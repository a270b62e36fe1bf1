/**
 * The common shell of every benchmark server process: reports its port over IPC, answers the
 * orchestrator's `gc` / `connections` / `stop` commands, and exits when the orchestrator goes
 * away (IPC closed) or sends SIGTERM. Exiting through process.exit lets `--cpu-prof` write its profile.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { ServerCommand, ServerReport } from '../lib/messages.js';

export interface RunningServer {
  readonly port: number;
  /** Open WebSocket connections right now. */
  connections(): number;
  close(): Promise<void> | void;
}

/** Limits shared by every server so none is advantaged: 64 KiB frames, 64 MiB of backpressure per socket. */
export const limits = {
  maxPayloadBytes: 64 * 1024,
  /** Large enough that no subscriber is cut during a run. */
  maxBackpressureBytes: 64 * 1024 * 1024,
  idleTimeoutSec: 120,
} as const;

export const HOST = '127.0.0.1';

function report(message: ServerReport): void {
  process.send?.(message);
}

/** The V8 profiler of this process, driven over IPC so only measured windows are profiled. */
const profiler = {
  session: null as Session | null,
  async start(): Promise<void> {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 250 });
    await session.post('Profiler.start');
    this.session = session;
  },
  async stop(file: string): Promise<void> {
    const session = this.session;
    if (session === null) throw new Error('profile-stop without profile-start');
    this.session = null;
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    writeFileSync(file, JSON.stringify(profile));
  },
};

export function serve(start: () => Promise<RunningServer>): void {
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  start().then(
    (server) => {
      process.on('message', (raw) => {
        const command = raw as ServerCommand;
        switch (command.type) {
          case 'gc': {
            const gc = (globalThis as { gc?: () => void }).gc;
            gc?.();
            gc?.();
            const mem = process.memoryUsage();
            return report({ type: 'gc', heapUsed: mem.heapUsed, external: mem.external });
          }
          case 'connections':
            return report({ type: 'connections', count: server.connections() });
          case 'profile-start':
            return void profiler.start().then(() => report({ type: 'profiling' }), fail);
          case 'profile-stop':
            return void profiler.stop(command.file).then(() => report({ type: 'profiled', file: command.file }), fail);
          case 'stop':
            return void Promise.resolve(server.close()).finally(() => process.exit(0));
        }
      });
      report({ type: 'listening', port: server.port });
    },
    (err: unknown) => {
      fail(err);
      process.exitCode = 1;
      process.disconnect?.();
    },
  );
}

function fail(err: unknown): void {
  report({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
}
