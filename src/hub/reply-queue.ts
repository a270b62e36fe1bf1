/**
 * Replies to walker frames without a `uid` leave in the order the frames arrived (clients without
 * ids match replies by position, as jac-cloud's one-at-a-time loop guarantees), while the walkers
 * themselves run concurrently. A reply that finishes early waits for every earlier one.
 *
 * Allocation-light: a call that finishes synchronously with nothing ahead of it never enters the
 * queue; otherwise one array slot per pending reply, compacted as the head drains.
 *
 * Bounded: the queue counts its places in line (`length`) and the characters of the replies that
 * are ready but wait behind an earlier one (`waitingChars`), so the hub can hold both under a
 * per-socket budget (see ReplyLine in reply-line.ts).
 */

/** A reserved place in line. */
export type Ticket = number;

/** Slot states: still running, or done with no reply to send (`response:false` success). */
const PENDING = 0;
const NOTHING = 1;
type Slot = string | typeof PENDING | typeof NOTHING;

export class ReplyQueue {
  private slots: Slot[] = [];
  /** Index in `slots` of the oldest reply not yet sent. */
  private head = 0;
  /** Ticket number of `slots[0]`. */
  private base = 0;
  /** UTF-16 code units of the replies settled but not sent (JavaScript's string length; ≈ bytes for ASCII JSON). */
  private waiting = 0;

  get empty(): boolean {
    return this.head === this.slots.length;
  }

  /** Places in line not yet sent: pending calls, ready replies and empty (`response:false`) results. */
  get length(): number {
    return this.slots.length - this.head;
  }

  /** Characters of ready replies waiting behind an earlier, unfinished one. */
  get waitingChars(): number {
    return this.waiting;
  }

  reserve(): Ticket {
    this.slots.push(PENDING);
    return this.base + this.slots.length - 1;
  }

  /** Fills a ticket (`null`: no reply) and sends every reply now at the head of the line, in order. */
  settle(ticket: Ticket, frame: string | null, send: (frame: string) => void): void {
    const index = ticket - this.base;
    if (index < this.head || index >= this.slots.length || this.slots[index] !== PENDING) return;
    if (frame === null) this.slots[index] = NOTHING;
    else {
      this.slots[index] = frame;
      this.waiting += frame.length;
    }
    while (this.head < this.slots.length) {
      const slot = this.slots[this.head] as Slot;
      if (slot === PENDING) break;
      this.slots[this.head] = NOTHING;
      this.head++;
      if (slot !== NOTHING) {
        this.waiting -= slot.length;
        send(slot);
      }
    }
    if (this.head === this.slots.length) {
      this.base += this.slots.length;
      this.slots.length = 0;
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.slots.length) {
      this.slots.splice(0, this.head);
      this.base += this.head;
      this.head = 0;
    }
  }
}
