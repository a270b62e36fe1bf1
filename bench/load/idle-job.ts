/** Idle connections (the connections scenario): opened with bounded concurrency, then left alone. */
import { now, type LoadJob, type LoadReport } from '../lib/messages.js';
import { openMany } from './connect.js';
import { dialects } from './dialects.js';
import { RawWs } from './rawws.js';

type Spec = Extract<LoadJob, { kind: 'idle' }>;

export class IdleJob {
  private readonly sockets: RawWs[] = [];

  constructor(
    private readonly spec: Spec,
    private readonly report: (m: LoadReport) => void,
  ) {}

  async setup(): Promise<LoadReport> {
    const dialect = dialects[this.spec.endpoint.kind];
    const events = {
      frames: () => undefined,
      lost: (_s: RawWs, reason: string) => this.report({ type: 'error', message: `an idle ${this.spec.endpoint.kind} socket was lost: ${reason}` }),
    };
    const startedAt = now();
    const cpu = process.cpuUsage();
    await openMany(this.spec.count, this.spec.concurrency, () => {
      const socket = new RawWs({ port: this.spec.endpoint.port, path: dialect.path(null), dialect, decode: false, events });
      this.sockets.push(socket);
      return socket;
    });
    const usage = process.cpuUsage(cpu);
    return { type: 'ready', connected: this.sockets.length, startedAt, readyAt: now(), cpu: { user: usage.user, system: usage.system } };
  }

  teardown(): void {
    for (const s of this.sockets) s.close();
    this.sockets.length = 0;
  }
}
