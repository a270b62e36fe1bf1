/**
 * An acknowledgement means the subscription is live: `subscribed`, the `connection` frame sent at
 * connect and the one answering `change_user` leave only once the broker says every subscription
 * they need is confirmed (Redis answered the SUBSCRIBE), or was held already. While one waits, the
 * socket's later frames are held, unprocessed, and handled in arrival order right after the reply
 * has gone out, so replies keep the order of the frames they answer.
 *
 * The wait is bounded by the broker (config `brokerConfirmTimeoutMs`): when it runs out (Redis down
 * or not answering) the reply goes out anyway; local delivery works, and delivery from other nodes
 * starts once the broker has subscribed again. The memory broker (and a socket whose topics are
 * live already) answers synchronously: no promise, no allocation here.
 *
 * Held frames are bounded (HOLD_LIMITS); a socket that sends more while waiting is closed with
 * `closeCodes.heldOverflow`, never cut silently.
 */
import { closeCodes } from '../errors.js';
import type { Session } from './session.js';

/** What one socket may send while a reply waits for the broker: frames, and bytes (UTF-8) of them. */
export const HOLD_LIMITS = { frames: 256, bytes: 1024 * 1024 } as const;

/** A socket's frames that arrived while a reply waited; `at` is the arrival time, if the hub read it. */
export class HeldFrames {
  /** A reply is waiting for the broker (false while held frames are being handled). */
  waiting = true;
  private readonly texts: Array<string | null> = [];
  private readonly ats: Array<number | undefined> = [];
  private head = 0;
  private bytes = 0;

  /** False (nothing kept) when the frame would pass HOLD_LIMITS. */
  push(text: string | null, at: number | undefined): boolean {
    const size = text === null ? 0 : Buffer.byteLength(text);
    if (this.texts.length - this.head >= HOLD_LIMITS.frames || this.bytes + size > HOLD_LIMITS.bytes) return false;
    this.texts.push(text);
    this.ats.push(at);
    this.bytes += size;
    return true;
  }

  get size(): number {
    return this.texts.length - this.head;
  }

  /** Hands the oldest frame to `handle`; false when none is left. */
  shift(handle: (text: string | null, at: number | undefined) => void): boolean {
    if (this.head === this.texts.length) return false;
    const i = this.head++;
    const text = this.texts[i] as string | null;
    const at = this.ats[i];
    this.texts[i] = null;
    if (text !== null) this.bytes -= Buffer.byteLength(text);
    handle(text, at);
    return true;
  }
}

/** Handles one incoming frame as `Hub.message` would, past the frame budget. */
export type Dispatch = (session: Session, text: string | null, at: number | undefined) => void;

/** Null when every wait is null (all live now); otherwise resolves when all have, true if all were live. */
export function allLive(waits: ReadonlyArray<Promise<boolean> | null>): Promise<boolean> | null {
  let pending: Array<Promise<boolean>> | null = null;
  for (const wait of waits) if (wait !== null) (pending ??= []).push(wait);
  if (pending === null) return null;
  if (pending.length === 1) return pending[0] as Promise<boolean>;
  return Promise.all(pending).then((each) => each.every(Boolean));
}

export class Gate {
  constructor(private readonly dispatch: Dispatch) {}

  /**
   * Sends `reply` now if `live` is null; otherwise once it resolves, holding the socket's later
   * frames until then. `after` runs right after the reply went out (before any held frame).
   */
  reply(session: Session, live: Promise<boolean> | null, reply: string, after?: () => void): void {
    if (live === null) {
      session.conn?.send(reply);
      after?.();
      return;
    }
    const held = (session.held ??= new HeldFrames());
    held.waiting = true;
    live.then(
      (ok) => {
        // Not live in time: the reply goes out anyway; delivery from other nodes starts when the broker has subscribed.
        if (!ok) session.log.debug('broker did not confirm the subscription in time; replying anyway');
        this.answer(session, reply, after);
      },
      (err: unknown) => {
        session.log.error('waiting for the broker failed; replying anyway', { error: err instanceof Error ? err.message : String(err) });
        this.answer(session, reply, after);
      },
    );
  }

  /** A frame arrived while `session.held` is set: kept for later, or the socket is closed when over the bound. */
  hold(session: Session, text: string | null, at: number | undefined): void {
    const held = session.held as HeldFrames;
    if (held.push(text, at)) return;
    session.log.warn('socket closed: too many frames while waiting for the broker', { frames: held.size, limit: HOLD_LIMITS.frames, bytes_limit: HOLD_LIMITS.bytes });
    session.conn?.end(closeCodes.heldOverflow, `over ${HOLD_LIMITS.frames} frames or ${HOLD_LIMITS.bytes} bytes sent while a reply waited for the broker`);
  }

  /**
   * Holds the socket's later frames until `work` settles, then runs `then` with its value (it may
   * send replies, or start another wait) and handles the held frames in order. `work` must not reject.
   */
  after<T>(session: Session, work: Promise<T>, then: (value: T) => void): void {
    const held = (session.held ??= new HeldFrames());
    held.waiting = true;
    void work.then((value) => this.resume(session, () => then(value)));
  }

  /** Sends the reply, then handles held frames in order until one starts another wait (or none is left). */
  private answer(session: Session, reply: string, after: (() => void) | undefined): void {
    this.resume(session, () => {
      session.conn?.send(reply);
      after?.();
    });
  }

  /** Runs `then`, then handles held frames in order until one starts another wait (or none is left). */
  private resume(session: Session, then: () => void): void {
    // Closed meanwhile: the held frames go with the session.
    if (session.conn === null) return;
    const held = session.held;
    if (held !== null) held.waiting = false;
    then();
    if (held === null) return;
    const handle = (text: string | null, at: number | undefined) => this.dispatch(session, text, at);
    while (!held.waiting && session.conn !== null && held.shift(handle));
    if (!held.waiting && session.held === held) session.held = null;
  }
}
