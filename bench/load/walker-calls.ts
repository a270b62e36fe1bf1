/**
 * A walker-call load child: C connections, each keeping W walker calls in flight, replies counted
 * without decoding (RawWs): every reply frame read is answered by one new call on that socket. The
 * first call is made and checked by hand, so every server is known to answer alike.
 *
 * Frames: the hub and raw uWS get the hub's `walker` frame (with `uid`, or without for the ordered
 * variant); Socket.IO gets a `walker` event with an ack id (its acks are its request/reply).
 */
import { dialects } from './dialects.js';
import { RawWs } from './rawws.js';
import type { CpuTime, WalkerCallCommand, WalkerCallJob, WalkerCallReport } from '../lib/messages.js';
import { now } from '../lib/messages.js';

function report(message: WalkerCallReport): void {
  process.send?.(message);
}

/** The text of one call; `seq` numbers the socket's calls (a uid, or a Socket.IO ack id). */
function callText(job: WalkerCallJob, seq: number): string {
  const context = job.body;
  if (job.endpoint.kind === 'socketio') return `42${seq}["walker",{"walker":"bench_echo","context":${context}}]`;
  const uid = job.variant === 'uid' ? `,"uid":"c${seq}"` : '';
  return `{"type":"walker","walker":"bench_echo","response":true,"context":${context}${uid}}`;
}

let sockets: RawWs[] = [];
let counting = false;
let replies = 0;

/** A job replaces the previous one (the child is reused across runs): its sockets are closed first. */
async function setup(job: WalkerCallJob): Promise<void> {
  counting = false;
  for (const s of sockets) s.close();
  sockets = [];
  const dialect = dialects[job.endpoint.kind];
  const seqs = new Map<RawWs, number>();
  const send = (ws: RawWs, count: number) => {
    let seq = seqs.get(ws) ?? 0;
    const texts: string[] = [];
    for (let i = 0; i < count; i++) texts.push(callText(job, seq++));
    seqs.set(ws, seq);
    ws.sendTexts(texts);
  };
  // One socket decodes its first reply, to check it; the rest only count.
  let sample: ((text: string) => void) | null = null;
  const sampled = new Promise<string>((resolve) => (sample = resolve));
  const lost = (_ws: RawWs, reason: string) => report({ type: 'error', message: `socket lost: ${reason}` });
  const open = () =>
    new RawWs({
      port: job.endpoint.port,
      path: dialect.path(null),
      dialect,
      decode: false,
      events: {
        frames: (ws, count) => {
          if (counting) replies += count;
          send(ws, count);
        },
        lost,
      },
    });
  const checker = new RawWs({
    port: job.endpoint.port,
    path: dialect.path(null),
    dialect,
    decode: true,
    events: {
      frames: () => undefined,
      message: (payload) => {
        const s = sample;
        sample = null;
        s?.(payload.toString('utf8'));
      },
      lost: () => undefined,
    },
  });
  await checker.ready;
  checker.sendText(callText(job, 0));
  const text = await sampled;
  checker.close();
  if (!/"status":200/.test(text) || !/bench-user/.test(text)) throw new Error(`unexpected walker reply: ${text.slice(0, 200)}`);
  sockets = Array.from({ length: job.connections }, () => open());
  await Promise.all(sockets.map((s) => s.ready));
  for (const s of sockets) send(s, job.window);
  report({ type: 'ready', sample: text });
}

function measure(durationMs: number): void {
  const cpu0 = process.cpuUsage();
  const t0 = now();
  replies = 0;
  counting = true;
  setTimeout(() => {
    counting = false;
    const seconds = (now() - t0) / 1000;
    const usage = process.cpuUsage(cpu0);
    // Closed before reporting, so the server's stop after the run is not a lost socket.
    for (const s of sockets) s.close();
    sockets = [];
    const cpu: CpuTime = { user: usage.user, system: usage.system };
    report({ type: 'measured', replies, seconds, cpu });
  }, durationMs);
}

process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.on('message', (raw) => {
  const command = raw as WalkerCallCommand;
  if (command.type === 'job') setup(command.job).catch((err: unknown) => report({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
  else measure(command.durationMs);
});
report({ type: 'hello' });
