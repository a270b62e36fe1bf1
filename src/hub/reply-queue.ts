/**
 * Replies to walker frames without a `uid` leave in the order the frames arrived (clients without
 * ids match replies by position, as jac-cloud's one-at-a-time loop guarantees), while the walkers
 * themselves run concurrently. A reply that finishes early waits for every earlier one.
 *
 * Allocation-light: a call that finishes synchronously with nothing ahead of it never enters the
 * queue; otherwise one array slot per pending reply, compacted as the head drains.
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

  get empty(): boolean {
    return this.head === this.slots.length;
  }

  reserve(): Ticket {
    this.slots.push(PENDING);
    return this.base + this.slots.length - 1;
  }

  /** Fills a ticket (`null`: no reply) and sends every reply now at the head of the line, in order. */
  settle(ticket: Ticket, frame: string | null, send: (frame: string) => void): void {
    const index = ticket - this.base;
    if (index < this.head || index >= this.slots.length) return;
    this.slots[index] = frame === null ? NOTHING : frame;
    while (this.head < this.slots.length) {
      const slot = this.slots[this.head] as Slot;
      if (slot === PENDING) break;
      this.slots[this.head] = NOTHING;
      this.head++;
      if (slot !== NOTHING) send(slot);
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
