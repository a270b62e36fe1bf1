/**
 * A minimal WebSocket client on node:net, built to count frames with almost no per-frame work.
 *
 * After a hand-written HTTP upgrade, it scans the byte stream for frame headers (server frames are
 * unmasked: 2-byte header, then a 16- or 64-bit extended length) and skips payloads without
 * copying or decoding them. Every socket of a process reads into one shared buffer (`onread`), so
 * a read allocates nothing. Payloads are only collected for control frames, pre-ready handshake
 * frames, short frames of dialects with chatter (Socket.IO pings), and sockets opened with
 * `decode` (latency samples). Frames sent to the server are masked, as the protocol requires.
 * Servers here never fragment messages, so a data frame is a message.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { now } from '../lib/messages.js';
import type { Dialect } from './dialects.js';

export interface RawWsEvents {
  /** Data frames counted in one read: called once per read, never per frame. */
  frames(socket: RawWs, count: number): void;
  /** Each data frame of a `decode` socket; `at` is when its read happened. */
  message?(payload: Buffer, at: number): void;
  /** The socket closed without `close()` being called. */
  lost(socket: RawWs, reason: string): void;
}

export interface RawWsOptions {
  readonly port: number;
  readonly path: string;
  readonly dialect: Dialect;
  readonly decode: boolean;
  readonly events: RawWsEvents;
  /** Source address (a 127.0.0.x), so a run can use more ephemeral ports than one address has. */
  readonly localAddress?: string;
}

const HOST = '127.0.0.1';
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Shared by every socket of this process: each read is scanned synchronously before the next. */
const readBuffer = Buffer.allocUnsafe(256 * 1024);
const maskPool = randomBytes(64 * 1024);
let maskAt = 0;

/** Connection states: HTTP upgrade, pre-ready frames, counting, closed. */
const State = { Http: 0, Handshake: 1, Open: 2, Closed: 3 } as const;
type State = (typeof State)[keyof typeof State];

export class RawWs {
  /** Data frames counted since the socket became ready. */
  frames = 0;
  readonly ready: Promise<void>;
  private state: State = State.Http;
  private head: Buffer | null = null;
  private readonly key = randomBytes(16).toString('base64');
  private readonly socket: Socket;
  private remaining = 0;
  private opcode = 0;
  private collect: Buffer | null = null;
  private collected = 0;
  private readonly header = Buffer.alloc(14);
  private headerLen = 0;
  private pending = 0;
  private settleReady: ((err?: Error) => void) | null = null;

  constructor(private readonly options: RawWsOptions) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err ? reject(err) : resolve());
    });
    this.socket = connect({
      host: HOST,
      port: options.port,
      noDelay: true,
      ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
      onread: { buffer: readBuffer, callback: (n) => this.read(n) },
    });
    this.socket.write(
      `GET ${options.path} HTTP/1.1\r\nHost: ${HOST}:${options.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    this.socket.on('error', (err) => this.fail(err.message));
    this.socket.on('close', () => this.fail('connection closed by the server'));
  }

  /** Sends one masked text frame. */
  sendText(text: string): void {
    this.sendTexts([text]);
  }

  /** Sends masked text frames in one write (one TCP segment when small), so the server reads them together. */
  sendTexts(texts: readonly string[]): void {
    const frames = texts.map((text) => {
      const length = Buffer.byteLength(text);
      const frame = this.frame(0x81, length);
      frame.write(text, frame.length - length);
      this.mask(frame, length);
      return frame;
    });
    this.socket.write(frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames));
  }

  close(): void {
    if (this.state === State.Closed) return;
    this.state = State.Closed;
    this.socket.destroy();
  }

  private read(n: number): boolean {
    if (this.state === State.Closed) return false;
    try {
      if (this.state === State.Http) this.readHead(readBuffer.subarray(0, n));
      else this.scan(readBuffer, 0, n, this.options.decode ? now() : 0);
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
      return false;
    }
    if (this.pending > 0) {
      const count = this.pending;
      this.pending = 0;
      this.frames += count;
      this.options.events.frames(this, count);
    }
    return true;
  }

  private readHead(chunk: Buffer): void {
    const all = this.head ? Buffer.concat([this.head, chunk]) : chunk;
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      this.head = Buffer.from(all); // the read buffer is reused: keep a copy
      return;
    }
    this.head = null;
    const head = all.toString('latin1', 0, end);
    const status = head.slice(0, head.indexOf('\r\n'));
    if (!status.startsWith('HTTP/1.1 101')) throw new Error(`upgrade refused: ${status}`);
    const accept = createHash('sha1').update(this.key + GUID).digest('base64');
    if (!head.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) throw new Error('bad Sec-WebSocket-Accept');
    this.state = this.options.dialect.handshakeFrames ? State.Handshake : State.Open;
    if (this.state === State.Open) this.becomeReady();
    this.scan(all, end + 4, all.length, this.options.decode ? now() : 0);
  }

  private scan(buf: Buffer, from: number, end: number, at: number): void {
    let i = from;
    while (i < end) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, end - i);
        if (this.collect !== null) {
          buf.copy(this.collect, this.collected, i, i + n);
          this.collected += n;
        }
        this.remaining -= n;
        i += n;
        if (this.remaining === 0 && this.collect !== null) this.complete(at);
        continue;
      }
      if (this.headerLen === 0 && end - i >= 2) {
        const b1 = buf[i + 1] as number;
        const len7 = b1 & 0x7f;
        const size = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
        if (end - i >= size) {
          const length = len7 < 126 ? len7 : len7 === 126 ? buf.readUInt16BE(i + 2) : buf.readUIntBE(i + 4, 6);
          const b0 = buf[i] as number;
          i += size;
          this.begin(b0, b1, length, at);
          continue;
        }
      }
      // A header split across reads: gather it byte by byte.
      this.header[this.headerLen++] = buf[i++] as number;
      if (this.headerLen < 2) continue;
      const b1 = this.header[1] as number;
      const len7 = b1 & 0x7f;
      const size = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
      if (this.headerLen < size) continue;
      this.headerLen = 0;
      const length = len7 < 126 ? len7 : len7 === 126 ? this.header.readUInt16BE(2) : this.header.readUIntBE(4, 6);
      this.begin(this.header[0] as number, b1, length, at);
    }
  }

  private begin(b0: number, b1: number, length: number, at: number): void {
    if ((b1 & 0x80) !== 0) throw new Error('the server sent a masked frame');
    const opcode = b0 & 0x0f;
    this.remaining = length;
    // The hot path: a data frame on a counting socket is counted and its payload skipped.
    if (opcode < 8 && this.state === State.Open && !this.options.decode && (length >= 8 || this.options.dialect.chatter === undefined)) {
      this.pending++;
      return;
    }
    this.opcode = opcode;
    this.collect = Buffer.allocUnsafe(length);
    this.collected = 0;
    if (length === 0) this.complete(at);
  }

  private complete(at: number): void {
    const payload = this.collect as Buffer;
    this.collect = null;
    const { dialect, events } = this.options;
    if (this.opcode >= 8) {
      if (this.opcode === 0x9) this.sendControl(0x8a, payload); // ping -> pong, same data
      if (this.opcode === 0x8) this.fail(`close frame ${payload.length >= 2 ? payload.readUInt16BE(0) : ''}`);
      return;
    }
    if (this.state === State.Handshake) {
      if (dialect.handshake(payload.toString('utf8'), (text) => this.sendText(text))) {
        this.state = State.Open;
        this.becomeReady();
      }
      return;
    }
    if (dialect.chatter !== undefined && payload.length < 8) {
      const reply = dialect.chatter(payload[0] ?? 0, payload.length);
      if (reply !== null) {
        if (reply !== '') this.sendText(reply);
        return;
      }
    }
    this.pending++;
    if (this.options.decode) events.message?.(payload, at);
  }

  private becomeReady(): void {
    this.settleReady?.();
    this.settleReady = null;
  }

  private fail(reason: string): void {
    if (this.state === State.Closed) return;
    const wasReady = this.settleReady === null;
    this.state = State.Closed;
    this.socket.destroy();
    if (wasReady) this.options.events.lost(this, reason);
    else {
      this.settleReady?.(new Error(reason));
      this.settleReady = null;
    }
  }

  private sendControl(first: number, payload: Buffer): void {
    const frame = this.frame(first, payload.length);
    payload.copy(frame, frame.length - payload.length);
    this.mask(frame, payload.length);
    this.socket.write(frame);
  }

  /** A client frame with room for `length` payload bytes after its header and mask key. */
  private frame(first: number, length: number): Buffer {
    const size = length < 126 ? 6 : length < 65536 ? 8 : 14;
    const frame = Buffer.allocUnsafe(size + length);
    frame[0] = first;
    if (length < 126) frame[1] = 0x80 | length;
    else if (length < 65536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(length), 2);
    }
    return frame;
  }

  /** Writes a fresh mask key before the last `length` bytes and masks them. */
  private mask(frame: Buffer, length: number): void {
    const start = frame.length - length;
    if (maskAt + 4 > maskPool.length) {
      randomBytes(maskPool.length).copy(maskPool);
      maskAt = 0;
    }
    maskPool.copy(frame, start - 4, maskAt, maskAt + 4);
    maskAt += 4;
    for (let j = 0; j < length; j++) frame[start + j] = (frame[start + j] as number) ^ (frame[start - 4 + (j & 3)] as number);
  }
}
