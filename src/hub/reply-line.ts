/**
 * The per-socket line of replies to walker frames without a `uid`, and its budget. Every reply to
 * such a frame — success, walker error, refusal, or the error for a malformed walker frame — takes
 * its place in the line, so a client matching replies by position never attributes one wrongly.
 *
 * Budget (per socket): at most `maxReplies` places in line and `maxChars` characters of ready
 * replies waiting behind an unfinished one. A socket that goes over either is closed with
 * `closeCodes.replyBacklog` and a reason: the replies it waited for can no longer be delivered in
 * order, and holding them would let one client grow the hub's memory without limit.
 */
import { closeCodes } from '../errors.js';
import { ReplyQueue, type Ticket } from './reply-queue.js';
import type { Session } from './session.js';

export interface ReplyLineLimits {
  /** Places in line (calls running or finished, not yet sent) per socket. */
  readonly maxReplies: number;
  /** Characters of ready replies waiting behind an earlier unfinished call, per socket. */
  readonly maxChars: number;
}

/**
 * Defaults: 1,024 places and 1 MiB of waiting replies (the default `maxBackpressureBytes`, so a line
 * that drains at once fits in a socket's outbound budget). Walker frames whose walkers run
 * asynchronously: 1 MiB of frame text at once.
 */
export const DEFAULT_REPLY_LINE: ReplyLineLimits = { maxReplies: 1024, maxChars: 1024 * 1024 };
export const DEFAULT_MAX_INFLIGHT_CHARS = 1024 * 1024;

/** No place in line: the reply goes out as soon as it is ready (a `uid`, or nothing ahead of it). */
export const NO_TICKET: Ticket = -1;
/** The socket was closed for going over its budget: there is nothing to reply to. */
export const OVERFLOWED: Ticket = -2;

export class ReplyLine {
  /** Characters of replies waiting in every socket's line now (a gauge). */
  private waiting = 0;

  constructor(
    private readonly limits: ReplyLineLimits,
    private readonly send: (session: Session, frame: string) => void,
  ) {}

  /**
   * A place for the reply to a frame with `uid`; `sync`: the reply is ready now (then it needs a
   * place only when something is ahead of it). OVERFLOWED when the line is full: the socket is
   * being closed and the call must not run.
   */
  place(session: Session, uid: string | undefined, sync: boolean): Ticket {
    if (uid !== undefined) return NO_TICKET;
    const queue = session.replies;
    if (sync && (queue === null || queue.empty)) return NO_TICKET;
    if (queue !== null && queue.length >= this.limits.maxReplies) {
      this.overflow(session, `more than ${this.limits.maxReplies} replies waiting`);
      return OVERFLOWED;
    }
    return (session.replies ??= new ReplyQueue()).reserve();
  }

  /** Whether a call without `uid` may start: false (and the socket is closing) when its line is full. */
  admit(session: Session, uid: string | undefined): boolean {
    if (uid !== undefined || session.replies === null || session.replies.length < this.limits.maxReplies) return true;
    this.overflow(session, `more than ${this.limits.maxReplies} replies waiting`);
    return false;
  }

  /** Sends `frame` (null: nothing) in its place; a reply whose socket closed meanwhile is dropped. */
  reply(session: Session, ticket: Ticket, frame: string | null): void {
    if (ticket === OVERFLOWED) return;
    if (ticket === NO_TICKET) {
      if (frame !== null) this.send(session, frame);
      return;
    }
    const queue = session.replies;
    if (queue === null) return;
    const before = queue.waitingChars;
    queue.settle(ticket, frame, (out) => this.send(session, out));
    this.waiting += queue.waitingChars - before;
    if (queue.waitingChars > this.limits.maxChars) this.overflow(session, `over ${this.limits.maxChars} characters of replies waiting`);
  }

  /** Forgets the socket's line (it closed): replies of walkers that finish later are dropped. */
  drop(session: Session): void {
    this.waiting -= session.replies?.waitingChars ?? 0;
    session.replies = null;
  }

  /** Characters of replies waiting in all lines now. */
  get waitingChars(): number {
    return this.waiting;
  }

  private overflow(session: Session, why: string): void {
    this.drop(session);
    session.conn?.end(closeCodes.replyBacklog, `${why} behind a slow walker`);
  }
}
