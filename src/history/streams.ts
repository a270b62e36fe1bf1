/**
 * Each history channel's live stream on this node, when history is kept in Redis. Publications
 * arrive from Redis in offset order (the append script publishes them); this checks that order
 * and closes the two seams a cluster has:
 *
 * - A gap (an offset skipped: a message lost while the subscriber connection was down) is filled
 *   from history before anything newer is delivered; live publications wait meanwhile. When it
 *   cannot be filled (no longer kept), or the epoch changed (Redis lost the history), the channel's
 *   members are told with an unsolicited `subscribed` frame saying `recovered: false` and where the
 *   channel is now, before the next publication: never a silent hole.
 * - A socket subscribing with recovery reads history while live publications go on: it is kept out
 *   of the channel's topic, its live publications are buffered here (`Recovery`), and once its read
 *   is done (and a barrier on the subscriber connection says every publication up to the read's
 *   top has arrived) it gets the read, then the buffered ones after it, then joins the topic. Each
 *   publication once, in order, none skipped.
 */
import type { DeliverLocally, Delivery } from '../broker/broker.js';
import { encode } from '../protocol.js';
import { publicationFrame, type Position } from './history.js';
import type { StreamRead } from './redis.js';

/** Live publications one recovering socket may have buffered; past it the socket is closed (4009). */
export const RECOVERY_BUFFER_LIMIT = 10_000;

interface Buffered {
  readonly position: Position;
  readonly frame: string;
}

/** One socket's recovery of one channel: what arrived live while it read history. */
export class Recovery {
  readonly buffered: Buffered[] = [];
  overflowed = false;

  push(entry: Buffered): void {
    if (this.buffered.length >= RECOVERY_BUFFER_LIMIT) this.overflowed = true;
    else this.buffered.push(entry);
  }

  /** The buffered frames to send after a read whose top was `top` (what the read covered is dropped). */
  after(top: Position | null): string[] {
    const frames: string[] = [];
    for (const { position, frame } of this.buffered) {
      if (top !== null && position.epoch === top.epoch && position.offset <= top.offset) continue;
      frames.push(frame);
    }
    return frames;
  }
}

interface ChannelStream {
  /** The last publication delivered (or the position a read found, before any arrived). */
  last: Position | null;
  /** Publications that arrived while a gap is being filled, in order. */
  queued: Delivery[] | null;
  readonly recoveries: Set<Recovery>;
}

export interface StreamsDeps {
  /** The hub's local delivery (channel topics). */
  readonly deliver: DeliverLocally;
  /** The publications after `since` (at most `limit`), or null when not all are kept. */
  fill(channel: string, since: Position): Promise<StreamRead>;
  /** Logs a gap that could not be filled (rate-limited by the caller). */
  lost(channel: string, from: Position, reason: string): void;
}

export class HistoryStreams {
  private readonly channels = new Map<string, ChannelStream>();
  private deps: StreamsDeps | null = null;

  start(deps: StreamsDeps): void {
    this.deps = deps;
  }

  /** A publication with a position, from Redis: delivered in order, after any gap is filled. */
  live(delivery: Delivery): number {
    const channel = delivery.ids[0] as string;
    const stream = this.channels.get(channel);
    // No local member: nothing to keep in order here.
    if (stream === undefined) return this.deps?.deliver(delivery) ?? 0;
    if (stream.queued !== null) {
      stream.queued.push(delivery);
      return 0;
    }
    return this.accept(channel, stream, delivery);
  }

  /** Starts buffering the channel's live publications for one recovering socket. */
  startRecovery(channel: string): Recovery {
    const recovery = new Recovery();
    this.stream(channel).recoveries.add(recovery);
    return recovery;
  }

  /** Ends a recovery; `read`: where the read found the channel (the stream's start when none arrived yet). */
  endRecovery(channel: string, recovery: Recovery, read: Position | null): void {
    const stream = this.channels.get(channel);
    if (stream === undefined) return;
    stream.recoveries.delete(recovery);
    if (read !== null && stream.last === null) stream.last = read;
  }

  /** The node has a local member of the channel: its stream is followed from now on. */
  track(channel: string): void {
    this.stream(channel);
  }

  /** The node left the channel (no local member): nothing of it is kept. */
  forget(channel: string): void {
    this.channels.delete(channel);
  }

  /** Channels with a stream state here (for tests: bounded by the channels with members). */
  get size(): number {
    return this.channels.size;
  }

  private stream(channel: string): ChannelStream {
    let stream = this.channels.get(channel);
    if (stream === undefined) {
      stream = { last: null, queued: null, recoveries: new Set() };
      this.channels.set(channel, stream);
    }
    return stream;
  }

  private accept(channel: string, stream: ChannelStream, delivery: Delivery): number {
    const at = delivery.position as Position;
    const last = stream.last;
    if (last !== null && last.epoch === at.epoch) {
      // Already delivered (a read's top, or a filled gap): never twice.
      if (at.offset <= last.offset) return 0;
      if (at.offset > last.offset + 1) {
        this.fill(channel, stream, last, delivery);
        return 0;
      }
    } else if (last !== null) {
      // A new epoch: what the members had is gone from history; they are told before it goes on.
      this.tellLost(channel, stream, { offset: at.offset - 1, epoch: at.epoch });
    }
    return this.deliverNow(stream, delivery);
  }

  private deliverNow(stream: ChannelStream, delivery: Delivery): number {
    const at = delivery.position as Position;
    stream.last = at;
    for (const recovery of stream.recoveries) recovery.push({ position: at, frame: delivery.frame });
    return this.deps?.deliver(delivery) ?? 0;
  }

  /** Reads the missing publications, delivers them, then what queued meanwhile. */
  private fill(channel: string, stream: ChannelStream, from: Position, next: Delivery): void {
    stream.queued = [next];
    const deps = this.deps;
    if (deps === null) return;
    const done = (read: StreamRead | null, reason: string) => {
      if (this.channels.get(channel) !== stream) return;
      const until = (next.position as Position).offset;
      if (read !== null && read.publications !== null && read.position.epoch === from.epoch) {
        for (const p of read.publications) {
          if (p.offset <= (stream.last?.offset ?? 0) || p.offset >= until) continue;
          const position = { offset: p.offset, epoch: from.epoch };
          this.deliverNow(stream, { kind: 'channels', ids: [channel], frame: publicationFrame(channel, position, p.data), position });
        }
      }
      if ((stream.last?.offset ?? 0) < until - 1 || stream.last?.epoch !== from.epoch) {
        deps.lost(channel, from, reason);
        this.tellLost(channel, stream, { offset: until - 1, epoch: (next.position as Position).epoch });
      }
      const queued = stream.queued ?? [];
      stream.queued = null;
      for (const delivery of queued) {
        if (stream.queued !== null) (stream.queued as Delivery[]).push(delivery);
        else this.accept(channel, stream, delivery);
      }
    };
    deps.fill(channel, from).then(
      (read) => done(read, read.publications === null ? 'no longer kept' : 'filled'),
      (err: unknown) => done(null, err instanceof Error ? err.message : String(err)),
    );
  }

  /** An unsolicited `subscribed` for the channel: recovered false, and where its stream goes on from. */
  private tellLost(channel: string, stream: ChannelStream, position: Position): void {
    stream.last = position;
    const frame = encode.subscribedWithHistory([channel], { [channel]: position }, { [channel]: false });
    for (const recovery of stream.recoveries) recovery.push({ position, frame });
    this.deps?.deliver({ kind: 'channels', ids: [channel], frame, system: true });
  }
}
