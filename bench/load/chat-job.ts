/**
 * One load process's share of the chat scenario: whole rooms, every member sending to its own
 * room. Rooms never span processes, so this process sees every delivery its own messages cause
 * and can flow-control itself: at most `inflightMsgs` messages (× members deliveries) outstanding.
 */
import { now, type LoadJob, type LoadReport } from '../lib/messages.js';
import { openMany } from './connect.js';
import { dialects, type Dialect } from './dialects.js';
import { payload } from './payload.js';
import { RawWs, type RawWsEvents } from './rawws.js';

type Spec = Extract<LoadJob, { kind: 'chat' }>;

export class ChatJob {
  private readonly dialect: Dialect;
  private readonly sockets: RawWs[] = [];
  private readonly roomOf: string[] = [];
  private sent = 0;
  private received = 0;
  private next = 0;
  private active = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly events: RawWsEvents;

  constructor(
    private readonly spec: Spec,
    private readonly report: (m: LoadReport) => void,
  ) {
    this.dialect = dialects[spec.endpoint.kind];
    this.events = {
      frames: (_socket, count) => {
        this.received += count;
        if (this.active) this.pump();
      },
      lost: (_socket, reason) => this.report({ type: 'error', message: `a ${spec.endpoint.kind} chat socket was lost: ${reason}` }),
    };
  }

  async setup(): Promise<LoadReport> {
    const startedAt = now();
    const { spec } = this;
    const total = spec.rooms.length * spec.members;
    await openMany(total, spec.concurrency, (i) => {
      // Interleaved: member m of room r is socket r + m × rooms, so round-robin sending spreads over rooms.
      const room = spec.rooms[i % spec.rooms.length] as string;
      const socket = new RawWs({ port: spec.endpoint.port, path: this.dialect.path(room), dialect: this.dialect, decode: false, events: this.events });
      this.sockets.push(socket);
      this.roomOf.push(room);
      return socket;
    });
    return { type: 'ready', connected: this.sockets.length, startedAt, readyAt: now() };
  }

  run(durationMs: number): void {
    const startedAt = now();
    const cpu = process.cpuUsage();
    const sent0 = this.sent;
    const received0 = this.received;
    this.active = true;
    this.pump();
    this.timer = setTimeout(() => {
      this.active = false;
      this.timer = null;
      const usage = process.cpuUsage(cpu);
      this.report({
        type: 'chatDone',
        sent: this.sent - sent0,
        received: this.received - received0,
        startedAt,
        endedAt: now(),
        cpu: { user: usage.user, system: usage.system },
      });
    }, durationMs);
  }

  teardown(): void {
    this.active = false;
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.sockets) s.close();
    this.sockets.length = 0;
  }

  /** Sends while fewer than `inflightMsgs` messages are unaccounted for. */
  private pump(): void {
    const { members, inflightMsgs } = this.spec;
    const n = this.sockets.length;
    while (this.sent * members - this.received < inflightMsgs * members) {
      const i = this.next;
      this.next = (i + 1) % n;
      const room = this.roomOf[i] as string;
      (this.sockets[i] as RawWs).sendText(this.dialect.publish(room, payload(room, this.sent)));
      this.sent++;
    }
  }
}
