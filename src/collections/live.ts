/**
 * Live data subscriptions on this node: who watches which collection with which query, and the
 * delivery of each committed change to them. Every subscriber is checked for every event: read
 * access with its identity at that moment (so a logout stops `owner` events at once), its `event`
 * kind, and its query's filter. An update that takes an item out of a subscriber's filter is sent
 * to it as a `delete` of that id, so a live list stays what its query would read.
 *
 * Socket-free: a subscriber is anything with an identity and a connection that can send text.
 */
import type { Identity } from '../auth/identity.js';
import { encode, type SubscriptionEvent } from '../protocol.js';
import { matches, type Condition, type StoredItem } from '../store/items.js';
import { passes, type ChangeAction, type ItemChange } from './collections.js';
import type { LoadedCollection } from './loader.js';

export interface Subscriber {
  readonly identity: Identity;
  readonly conn: { send(frame: string): void } | null;
}

export interface LiveSubscription {
  readonly subscriber: Subscriber;
  readonly uid: string | undefined;
  readonly collection: LoadedCollection;
  readonly filter: Condition | null;
  readonly project: (item: StoredItem) => Record<string, unknown>;
  readonly fieldsKey: string;
  /** Only this kind of change; all when undefined. */
  readonly event: ChangeAction | undefined;
  /** Events held until `init` has gone out; null once it has. */
  pending: string[] | null;
  /** Set by `add`: its uid, or a key of its own when it has none. */
  key?: string;
}

/** Data subscriptions one connection may hold at once. */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 100;

export class LiveSubscriptions {
  private readonly byCollection = new Map<string, Set<LiveSubscription>>();
  private readonly bySubscriber = new Map<Subscriber, Map<string, LiveSubscription>>();
  /** Keys of subscriptions without a uid: each is its own (a uid given again replaces). */
  private anonymous = 0;

  /** Adds (or, for a uid it holds already, replaces) a subscription; false when the connection holds too many. */
  add(sub: LiveSubscription): boolean {
    const key = sub.uid ?? `\u0000${++this.anonymous}`;
    sub.key = key;
    const previous = this.bySubscriber.get(sub.subscriber)?.get(key);
    if (previous === undefined && (this.bySubscriber.get(sub.subscriber)?.size ?? 0) >= MAX_SUBSCRIPTIONS_PER_CONNECTION) return false;
    // Dropping the one replaced may remove the subscriber's (then empty) map: look it up after.
    if (previous !== undefined) this.drop(key, previous);
    let mine = this.bySubscriber.get(sub.subscriber);
    if (mine === undefined) this.bySubscriber.set(sub.subscriber, (mine = new Map()));
    mine.set(key, sub);
    let set = this.byCollection.get(sub.collection.name);
    if (set === undefined) this.byCollection.set(sub.collection.name, (set = new Set()));
    set.add(sub);
    return true;
  }

  /** Whether `sub` is still registered (not replaced or ended). */
  has(sub: LiveSubscription): boolean {
    return this.byCollection.get(sub.collection.name)?.has(sub) ?? false;
  }

  /** Ends one subscription (if still registered). */
  end(sub: LiveSubscription): void {
    if (sub.key !== undefined && this.has(sub)) this.drop(sub.key, sub);
  }

  /** Ends the subscriber's subscription `uid`, or all of its subscriptions; returns how many ended. */
  remove(subscriber: Subscriber, uid?: string): number {
    const mine = this.bySubscriber.get(subscriber);
    if (mine === undefined) return 0;
    if (uid !== undefined) {
      const sub = mine.get(uid);
      if (sub === undefined) return 0;
      this.drop(uid, sub);
      return 1;
    }
    const count = mine.size;
    for (const [key, sub] of [...mine]) this.drop(key, sub);
    return count;
  }

  /** Subscriptions on this node (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const set of this.byCollection.values()) n += set.size;
    return n;
  }

  /** Whether any subscriber here watches `collection`. */
  watched(collection: string): boolean {
    return this.byCollection.has(collection);
  }

  /** Sends `init` and then whatever was held for the subscription meanwhile. */
  started(sub: LiveSubscription, items: StoredItem[]): void {
    if (!this.has(sub)) return;
    const held = sub.pending ?? [];
    sub.pending = null;
    const conn = sub.subscriber.conn;
    if (conn === null) return;
    conn.send(encode.subscription('init', JSON.stringify(items.map(sub.project)), sub.uid));
    for (const frame of held) conn.send(frame);
  }

  /** Delivers one committed change to every matching subscriber here. */
  deliver(change: ItemChange): void {
    const subs = this.byCollection.get(change.collection);
    if (subs === undefined) return;
    // One change is usually one item: its frame is encoded once per distinct field list and uid.
    const encoded = new Map<string, string>();
    for (const sub of subs) {
      const conn = sub.subscriber.conn;
      if (conn === null) continue;
      const read = sub.collection.access.read;
      const identity = sub.subscriber.identity;
      const upserted: StoredItem[] = [];
      const removed: string[] = [];
      for (const { before, after } of change.items) {
        const visible = (item: StoredItem | null): item is StoredItem => item !== null && passes(read, identity, item.owner) && matches(item, sub.filter);
        if (change.action === 'delete') {
          if (visible(before)) removed.push(before.id);
        } else if (visible(after)) upserted.push(after);
        else if (change.action === 'update' && visible(before)) removed.push(before.id);
      }
      if (upserted.length > 0 && (sub.event === undefined || sub.event === change.action)) {
        const event: SubscriptionEvent = change.action === 'create' ? 'create' : 'update';
        if (upserted.length === 1) {
          // Subscribers with the same fields and uid (an app's many users) get the very same text.
          const only = upserted[0] as StoredItem;
          const key = `${sub.fieldsKey}\u0000${only.id}\u0000${sub.uid ?? '\u0001'}`;
          let frame = encoded.get(key);
          if (frame === undefined) encoded.set(key, (frame = encode.subscription(event, JSON.stringify([sub.project(only)]), sub.uid)));
          this.send(sub, conn, frame);
        } else this.send(sub, conn, encode.subscription(event, JSON.stringify(upserted.map(sub.project)), sub.uid));
      }
      if (removed.length > 0 && (sub.event === undefined || sub.event === 'delete')) this.send(sub, conn, encode.subscription('delete', JSON.stringify(removed), sub.uid));
    }
  }

  private send(sub: LiveSubscription, conn: { send(frame: string): void }, frame: string): void {
    if (sub.pending !== null) sub.pending.push(frame);
    else conn.send(frame);
  }

  private drop(key: string, sub: LiveSubscription): void {
    const mine = this.bySubscriber.get(sub.subscriber);
    mine?.delete(key);
    if (mine?.size === 0) this.bySubscriber.delete(sub.subscriber);
    const set = this.byCollection.get(sub.collection.name);
    set?.delete(sub);
    if (set?.size === 0) this.byCollection.delete(sub.collection.name);
  }
}
