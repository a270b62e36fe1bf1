/**
 * The probe child: times requests and their replies on a few sockets of its own, one request in
 * flight per socket, for the subscribe-latency and presence scenarios. Every reply is decoded (RawWs
 * with `decode`); a request is timed from just before its write to the read that completed its
 * reply frame. Replies are told apart by their start (`{"type":"subscribed"`, …): frames of other
 * types (join/leave, channel messages) are skipped, an `error` frame fails the job.
 */
import { dialects } from './dialects.js';
import { RawWs } from './rawws.js';
import { now, type ProbeCommand, type ProbeReport } from '../lib/messages.js';

function report(message: ProbeReport): void {
  process.send?.(message);
}

const dialect = dialects.hub;

/** One socket whose replies are awaited one at a time. */
class Prober {
  readonly ws: RawWs;
  private waiting: { prefix: string; resolve: (r: { at: number; payload: Buffer }) => void; reject: (e: Error) => void } | null = null;
  private lostReason: string | null = null;

  constructor(port: number, room: string | null) {
    this.ws = new RawWs({
      port,
      path: dialect.path(room),
      dialect,
      decode: true,
      events: {
        frames: () => undefined,
        message: (payload, at) => this.message(payload, at),
        lost: (_ws, reason) => {
          this.lostReason = reason;
          this.waiting?.reject(new Error(`probe socket lost: ${reason}`));
          this.waiting = null;
        },
      },
    });
  }

  /** Sends `text` and resolves with the ms until the next frame starting with `prefix` was read, and that frame. */
  request(text: string, prefix: string): Promise<{ ms: number; payload: Buffer }> {
    if (this.lostReason !== null) return Promise.reject(new Error(`probe socket lost: ${this.lostReason}`));
    return new Promise((resolve, reject) => {
      const sentAt = now();
      this.waiting = { prefix, resolve: ({ at, payload }) => resolve({ ms: at - sentAt, payload }), reject };
      this.ws.sendText(text);
    });
  }

  private message(payload: Buffer, at: number): void {
    const waiting = this.waiting;
    if (waiting === null) return;
    // Only the frame's start is read: a presence reply of 10,000 members is ~0.6 MB.
    const head = payload.toString('utf8', 0, Math.min(payload.length, 64));
    if (head.startsWith(waiting.prefix)) {
      this.waiting = null;
      waiting.resolve({ at, payload });
    } else if (head.startsWith('{"type":"error"')) {
      this.waiting = null;
      waiting.reject(new Error(`error reply: ${payload.toString('utf8', 0, Math.min(payload.length, 300))}`));
    }
  }
}

async function subscribeLatency(c: Extract<ProbeCommand, { type: 'subscribe-latency' }>): Promise<ProbeReport> {
  const probers = Array.from({ length: c.connections }, () => new Prober(c.port, null));
  try {
    await Promise.all(probers.map((p) => p.ws.ready));
    const latencies: number[] = [];
    await Promise.all(
      probers.map(async (p, socket) => {
        for (let round = 0; round < c.rounds; round++) {
          const channel = JSON.stringify(`${c.prefix}${socket}-${round}`);
          const { ms } = await p.request(`{"type":"subscribe","channel_ids":[${channel}],"uid":"s${round}"}`, '{"type":"subscribed"');
          latencies.push(ms);
          await p.request(`{"type":"unsubscribe","channel_ids":[${channel}],"uid":"u${round}"}`, '{"type":"unsubscribed"');
        }
      }),
    );
    return { type: 'timed', latencies: Float64Array.from(latencies), replyBytes: 0, clients: 0 };
  } finally {
    for (const p of probers) p.ws.close();
  }
}

async function presence(c: Extract<ProbeCommand, { type: 'presence' }>): Promise<ProbeReport> {
  const p = new Prober(c.port, c.channel);
  try {
    await p.ws.ready;
    const ask = (i: number) => p.request(`{"type":"presence","channel_id":${JSON.stringify(c.channel)},"uid":"p${i}"}`, '{"type":"presence"');
    // Until every member is listed (in a cluster, each node's writes reach Redis asynchronously).
    const deadline = now() + c.settleMs;
    let clients = 0;
    let asked = 0;
    for (;;) {
      const { payload } = await ask(asked++);
      clients = (JSON.parse(payload.toString('utf8')) as { clients: unknown[] }).clients.length;
      if (clients >= c.members) break;
      if (now() > deadline) throw new Error(`presence listed ${clients} of ${c.members} members after ${c.settleMs} ms`);
      await new Promise((done) => setTimeout(done, 100));
    }
    const latencies: number[] = [];
    let replyBytes = 0;
    for (let i = 0; i < c.samples; i++) {
      const { ms, payload } = await ask(asked++);
      latencies.push(ms);
      replyBytes = payload.length;
    }
    return { type: 'timed', latencies: Float64Array.from(latencies), replyBytes, clients };
  } finally {
    p.ws.close();
  }
}

async function handle(command: ProbeCommand): Promise<void> {
  report(command.type === 'presence' ? await presence(command) : await subscribeLatency(command));
}

process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.on('message', (raw) => {
  handle(raw as ProbeCommand).catch((err: unknown) => report({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
});
report({ type: 'hello' });
