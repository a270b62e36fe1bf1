/**
 * A `subscribe` (with or without `since`) when history is kept in Redis. The socket is kept out of
 * the history channels' topics while this runs, and `HistoryStreams` buffers what arrives live for
 * it meanwhile. Steps: wait until this node's subscriptions are live (so every publication after
 * the read reaches this node), read each channel (position, and the missed publications when
 * `since` names it), put a barrier on the subscriber connection (so every publication up to the
 * read's top has arrived and been buffered), then merge: the read's publications, then the
 * buffered ones after its top. A channel whose read fails (its Redis shard is down, a deadline ran
 * out) reports `recovered: false` and no position; the others recover.
 */
import type { ChannelPolicy } from '../channels/policy.js';
import type { HistoryPosition } from '../protocol.js';
import { publicationFrame, type Position } from './history.js';
import type { RedisHistory, StreamRead } from './redis.js';
import type { HistoryStreams, Recovery } from './streams.js';

export interface StreamRecoveryResult {
  readonly positions: Record<string, HistoryPosition>;
  /** For each channel named in `since` (null when it was absent). */
  readonly recovered: Record<string, boolean> | null;
  /** Frames to send right after the reply, in order. */
  readonly replay: string[];
  /** A buffer ran over its bound: the socket must be closed rather than skip publications. */
  readonly overflowed: boolean;
}

/**
 * Starts buffering at once (call it in the same step as the join), and resolves with the merge,
 * computed and the buffers released in one step, never rejecting. `channels`: the history channels
 * of the subscribe, each once.
 */
export function recoverFromStreams(
  store: RedisHistory,
  streams: HistoryStreams,
  policy: ChannelPolicy,
  channels: readonly string[],
  allIds: readonly string[],
  since: Readonly<Record<string, HistoryPosition>> | undefined,
  live: Promise<boolean> | null,
): Promise<StreamRecoveryResult> {
  const recoveries = channels.map((channel) => streams.startRecovery(channel));
  const read = (channel: string): Promise<StreamRead | null> => {
    const limits = policy.historyOf(channel);
    if (limits === null) return Promise.resolve(null);
    const asked = since?.[channel];
    const mode = asked === undefined ? ({ kind: 'position' } as const) : ({ kind: 'since', since: asked, limit: limits.maxRecovery } as const);
    return store.read(channel, limits, mode).then(
      (got) => store.barrier(channel).then(
        () => got,
        // Without the barrier a publication up to the top could still arrive: not recovered, but the position holds.
        () => ({ position: got.position, publications: null }),
      ),
      () => null,
    );
  };
  return Promise.resolve(live)
    .then(() => Promise.all(channels.map(read)))
    .then((reads) => merge(streams, channels, recoveries, reads, allIds, since));
}

function merge(
  streams: HistoryStreams,
  channels: readonly string[],
  recoveries: readonly Recovery[],
  reads: ReadonlyArray<StreamRead | null>,
  allIds: readonly string[],
  since: Readonly<Record<string, HistoryPosition>> | undefined,
): StreamRecoveryResult {
  const positions: Record<string, HistoryPosition> = {};
  const recovered: Record<string, boolean> | null = since === undefined ? null : {};
  const replay: string[] = [];
  let overflowed = false;
  channels.forEach((channel, i) => {
    const got = reads[i] ?? null;
    const recovery = recoveries[i] as Recovery;
    const top: Position | null = got?.position ?? null;
    streams.endRecovery(channel, recovery, top);
    overflowed ||= recovery.overflowed;
    if (top !== null) positions[channel] = top;
    const asked = since?.[channel] !== undefined;
    if (recovered !== null && asked) recovered[channel] = got?.publications != null;
    if (asked && got?.publications != null && top !== null) {
      for (const p of got.publications) replay.push(publicationFrame(channel, { offset: p.offset, epoch: top.epoch }, p.data));
    }
    replay.push(...recovery.after(top));
  });
  // Channels named in `since` that keep no history (or were not subscribed here) are not recovered.
  if (recovered !== null && since !== undefined) {
    const joined = new Set(allIds);
    for (const channel of Object.keys(since)) if (!(channel in recovered) && joined.has(channel)) recovered[channel] = false;
  }
  return { positions, recovered, replay, overflowed };
}
