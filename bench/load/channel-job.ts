/**
 * One load process's share of a channel (fanout and latency scenarios): subscribers of one room,
 * and, in worker 0, the publisher, itself a member of the room and connected after everyone else.
 *
 * Counting is cumulative across phases (targets add up), so a phase's frames that arrive before
 * this process heard of the phase are still counted in it. A phase ends when every socket here has
 * every message, or at its timeout with what arrived.
 */
import { now, type CpuTime, type LoadJob, type LoadReport, type Pacing } from '../lib/messages.js';
import { openMany } from './connect.js';
import { dialects, type Dialect } from './dialects.js';
import { payload, readStamp } from './payload.js';
import { RawWs, type RawWsEvents } from './rawws.js';

type Spec = Extract<LoadJob, { kind: 'channel' }>;

interface Phase {
  readonly msgs: number;
  readonly target: number;
  /** Frames due to this process before this phase (earlier phases all completed). */
  readonly startReceived: number;
  readonly cpu: NodeJS.CpuUsage;
  readonly timer: NodeJS.Timeout;
  readonly skipSeqBelow: number;
  firstSendAt: number | null;
}

export class ChannelJob {
  private readonly dialect: Dialect;
  private readonly sockets: RawWs[] = [];
  private publisher: RawWs | null = null;
  /** Frames received by every socket here, since setup. */
  private received = 0;
  /** Messages per socket due so far, over all phases. */
  private dueEach = 0;
  private phase: Phase | null = null;
  private latencies: number[] = [];
  // Publisher state for the current phase.
  private sent = 0;
  private echoed = 0;
  /** Messages the publisher may have in flight (sent, own echo not yet back); unused while paced. */
  private window = 0;
  private burst = 1;
  private pacer: NodeJS.Timeout | null = null;
  private readonly events: RawWsEvents;

  constructor(
    private readonly spec: Spec,
    private readonly report: (m: LoadReport) => void,
  ) {
    this.dialect = dialects[spec.endpoint.kind];
    this.events = {
      frames: (socket, count) => {
        this.received += count;
        if (socket === this.publisher) {
          this.echoed += count;
          this.fillWindow();
        }
        if (this.phase !== null && this.received >= this.phase.target) this.finish();
      },
      message: (buf, at) => {
        const { seq, ts } = readStamp(buf);
        if (this.phase !== null && seq >= this.phase.skipSeqBelow) this.latencies.push(at - ts);
      },
      lost: (_socket, reason) => this.report({ type: 'error', message: `a ${spec.endpoint.kind} socket was lost: ${reason}` }),
    };
  }

  async setup(): Promise<LoadReport> {
    const startedAt = now();
    const { spec } = this;
    await openMany(spec.subscribers, spec.concurrency, (i) => this.open(spec.sampleEvery > 0 && i % spec.sampleEvery === 0));
    return { type: 'ready', connected: this.sockets.length, startedAt, readyAt: now() };
  }

  async addPublisher(): Promise<LoadReport> {
    const startedAt = now();
    this.publisher = this.open(false);
    await this.publisher.ready;
    return { type: 'ready', connected: this.sockets.length, startedAt, readyAt: now() };
  }

  startPhase(msgs: number, pacing: Pacing, timeoutMs: number, skipSeqBelow: number): void {
    this.dueEach += msgs;
    this.latencies = [];
    this.phase = {
      msgs,
      target: this.dueEach * this.sockets.length,
      startReceived: (this.dueEach - msgs) * this.sockets.length,
      cpu: process.cpuUsage(),
      timer: setTimeout(() => this.finish(), timeoutMs),
      skipSeqBelow,
      firstSendAt: null,
    };
    if (this.publisher !== null) {
      this.sent = 0;
      this.echoed = 0;
      if (pacing.mode === 'window') {
        this.window = pacing.window;
        this.burst = pacing.burst;
      }
      else this.pace(pacing.perSec);
      this.fillWindow();
    }
    if (this.received >= this.phase.target) this.finish();
  }

  teardown(): void {
    this.stopPacer();
    if (this.phase) clearTimeout(this.phase.timer);
    this.phase = null;
    for (const s of this.sockets) s.close();
    this.sockets.length = 0;
  }

  private open(decode: boolean): RawWs {
    const socket = new RawWs({
      port: this.spec.endpoint.port,
      path: this.dialect.path(this.spec.room),
      dialect: this.dialect,
      decode,
      events: this.events,
      ...(this.spec.localAddresses?.length ? { localAddress: this.spec.localAddresses[this.sockets.length % this.spec.localAddresses.length] as string } : {}),
    });
    this.sockets.push(socket);
    return socket;
  }

  /** Sends the next `count` messages of the phase in one write. */
  private send(count: number): void {
    const phase = this.phase;
    if (phase === null || this.publisher === null || count <= 0) return;
    phase.firstSendAt ??= now();
    const texts: string[] = [];
    for (let i = 0; i < count; i++) texts.push(this.dialect.publish(this.spec.room, payload(this.spec.room, this.sent + i)));
    this.publisher.sendTexts(texts);
    this.sent += count;
  }

  /** Window mode: bursts of `burst` messages (one write each), each sent only when it fits in the window. */
  private fillWindow(): void {
    const phase = this.phase;
    if (phase === null || this.pacer !== null) return;
    while (this.sent < phase.msgs && this.sent - this.echoed + this.burst <= this.window) this.send(Math.min(this.burst, phase.msgs - this.sent));
  }

  /** Sends at a fixed rate, catching up on timer lateness so the offered rate holds. */
  private pace(perSec: number): void {
    const start = now();
    this.pacer = setInterval(() => {
      const phase = this.phase;
      if (phase === null) return this.stopPacer();
      const due = Math.min(phase.msgs, Math.floor(((now() - start) * perSec) / 1000) + 1);
      this.send(due - this.sent);
      if (this.sent >= phase.msgs) this.stopPacer();
    }, 1);
  }

  private stopPacer(): void {
    if (this.pacer !== null) clearInterval(this.pacer);
    this.pacer = null;
  }

  private finish(): void {
    const phase = this.phase;
    if (phase === null) return;
    this.phase = null;
    this.stopPacer();
    clearTimeout(phase.timer);
    const lastFrameAt = now();
    const usage = process.cpuUsage(phase.cpu);
    const cpu: CpuTime = { user: usage.user, system: usage.system };
    let incompleteSockets = 0;
    for (const s of this.sockets) if (s.frames !== this.dueEach) incompleteSockets++;
    this.report({
      type: 'phaseDone',
      received: this.received - phase.startReceived,
      expected: phase.msgs * this.sockets.length,
      incompleteSockets,
      firstSendAt: phase.firstSendAt,
      lastFrameAt,
      cpu,
      latencies: Float64Array.from(this.latencies),
    });
    this.latencies = [];
  }
}
