/**
 * The change feed: every committed change goes to this node's live subscriptions at once and, over
 * the broker's control topic, to every other node, whose subscriptions get it too: each node
 * delivers each change once. The control topic reaches all nodes (not only those with
 * subscribers): simple, at the cost of one message per change per node.
 *
 * Order: Redis delivers one node's messages in the order it sent them, but changes to one item made
 * on two nodes may cross. Each stored item carries `rev` (one more per change), so a node keeps the
 * last rev it delivered per item and drops an older change arriving late: per item, subscribers see
 * changes in commit order (possibly skipping one that arrived after a newer one).
 */
import { z } from 'zod';
import type { ControlRouter } from '../broker/control.js';
import type { StoredItem } from '../store/items.js';
import type { ItemChange } from './collections.js';
import type { LiveSubscriptions } from './live.js';

/** The control message type of item changes. */
export const ITEMS_CONTROL = 'items';
/** Items whose last delivered rev is remembered (the oldest are forgotten first). */
const REMEMBERED_REVS = 100_000;

const storedItem = z.object({
  id: z.string(),
  owner: z.string().nullable(),
  created: z.string(),
  updated: z.string(),
  rev: z.number().int(),
  data: z.record(z.string(), z.unknown()),
});
const changeMessage = z.object({
  collection: z.string(),
  action: z.enum(['create', 'update', 'delete']),
  items: z.array(z.object({ before: storedItem.nullable(), after: storedItem.nullable() })),
});

export class ChangeFeed {
  private readonly revs = new Map<string, number>();

  constructor(
    private readonly live: LiveSubscriptions,
    private readonly control: Pick<ControlRouter, 'on' | 'send'> | null,
  ) {
    control?.on(ITEMS_CONTROL, changeMessage, (message) => this.accept(message));
  }

  /** A change committed on this node. */
  publish(change: ItemChange): void {
    this.accept(change);
    this.control?.send(ITEMS_CONTROL, { collection: change.collection, action: change.action, items: change.items });
  }

  private accept(change: ItemChange): void {
    const fresh = change.items.filter(({ before, after }) => this.newer(change.collection, (after ?? before) as StoredItem, after === null));
    if (fresh.length === 0 || !this.live.watched(change.collection)) return;
    this.live.deliver(fresh.length === change.items.length ? change : { ...change, items: fresh });
  }

  /** Whether the change is newer than the last delivered one of that item (a delete counts as one more rev). */
  private newer(collection: string, item: StoredItem, deleted: boolean): boolean {
    const key = `${collection}\u0000${item.id}`;
    const rev = item.rev + (deleted ? 1 : 0);
    const last = this.revs.get(key);
    if (last !== undefined && rev <= last) return false;
    // Re-inserted, so the map's order is last-delivered order and the oldest is forgotten first.
    this.revs.delete(key);
    this.revs.set(key, rev);
    if (this.revs.size > REMEMBERED_REVS) this.revs.delete(this.revs.keys().next().value as string);
    return true;
  }
}
