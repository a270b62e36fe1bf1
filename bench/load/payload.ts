/**
 * The message every scenario publishes (~100 bytes of JSON, the same for every server) and the
 * two numbers the latency scenario reads back out of it without a JSON parse.
 */
import { now } from '../lib/messages.js';

const TEXT = 'quick brown fox jumps';

/** `ts` is the send time: ms since the epoch with µs fractions, comparable across processes. */
export function payload(room: string, seq: number): string {
  return `{"type":"chat","data":{"room":"${room}","seq":${seq},"ts":${now().toFixed(3)},"text":"${TEXT}"}}`;
}

const SEQ = Buffer.from('"seq":');
const TS = Buffer.from('"ts":');

/** The number right after `key` in `buf` (NaN when absent). */
function numberAfter(buf: Buffer, key: Buffer): number {
  const at = buf.indexOf(key);
  if (at < 0) return Number.NaN;
  const start = at + key.length;
  let end = start;
  for (let c = buf[end]; c !== undefined && ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d); c = buf[++end]);
  return Number(buf.toString('latin1', start, end));
}

/** seq and ts of a delivered payload, whatever wraps it (Socket.IO's `42["msg",...]` included). */
export function readStamp(buf: Buffer): { seq: number; ts: number } {
  return { seq: numberAfter(buf, SEQ), ts: numberAfter(buf, TS) };
}
