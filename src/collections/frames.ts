/**
 * The WebSocket side of collections: the `items` frame (CRUD), and `subscribe` with `collection` /
 * `unsubscribe` without `channel_ids` (live data subscriptions), as Directus speaks them. Replies
 * go to the connection that asked; failures go to `fail` as HubErrors (anything unexpected is
 * logged here with an id and answered `internal`).
 */
import { nanoid } from 'nanoid';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { encode, type FrameOf } from '../protocol.js';
import type { Actor, Collections } from './collections.js';
import type { LiveSubscription, LiveSubscriptions, Subscriber } from './live.js';
import { MAX_SUBSCRIPTIONS_PER_CONNECTION } from './live.js';

type Fail = (err: HubError) => void;

/** `items` requests and subscription inits one connection may have waiting on the store at once. */
export const MAX_INFLIGHT_ITEM_REQUESTS = 64;

const actorOf = (subscriber: Subscriber): Actor => ({ identity: subscriber.identity, owner: subscriber.identity.root_id });

export class CollectionFrames {
  /** Store work in flight per connection (entries leave at zero, so closed connections leave none). */
  private readonly inflight = new Map<Subscriber, number>();

  constructor(
    private readonly collections: Collections,
    private readonly live: LiveSubscriptions,
    private readonly log: Logger,
  ) {}

  items(session: Subscriber, frame: FrameOf<'items'>, fail: Fail): void {
    const done = this.admit(session);
    if (done === null) return fail(new HubError('too_many_requests', `At most ${MAX_INFLIGHT_ITEM_REQUESTS} items requests may wait on the store at once per connection`));
    const reply = this.itemsReply(session, frame);
    reply.then(done, done);
    this.answer(reply, session, frame.uid, fail);
  }

  /** Counts one more request of the connection in flight; null when it has too many. Returns its release. */
  private admit(session: Subscriber): (() => void) | null {
    const count = this.inflight.get(session) ?? 0;
    if (count >= MAX_INFLIGHT_ITEM_REQUESTS) return null;
    this.inflight.set(session, count + 1);
    return () => {
      const left = (this.inflight.get(session) ?? 1) - 1;
      if (left === 0) this.inflight.delete(session);
      else this.inflight.set(session, left);
    };
  }

  private async itemsReply(session: Subscriber, frame: FrameOf<'items'>): Promise<string> {
    const actor = actorOf(session);
    const { collection, id, ids, query } = frame;
    const targets = id !== undefined ? [id] : ids;
    const single = id !== undefined;
    switch (frame.action) {
      case 'create': {
        if (frame.data === undefined) throw new HubError('invalid_frame', 'create needs data: an item or an array of items');
        const created = await this.collections.create(collection, actor, frame.data, query);
        return JSON.stringify(Array.isArray(frame.data) ? created : created[0]);
      }
      case 'read':
        if (single) return JSON.stringify(await this.collections.readOne(collection, actor, id, query));
        if (ids !== undefined) {
          const filter = query?.filter === undefined ? { id: { _in: ids } } : { _and: [{ id: { _in: ids } }, query.filter] };
          return JSON.stringify(await this.collections.read(collection, actor, { ...query, filter, limit: query?.limit ?? ids.length }));
        }
        return JSON.stringify(await this.collections.read(collection, actor, query));
      case 'update': {
        if (targets === undefined) throw new HubError('invalid_frame', 'update needs id or ids (updating by query is not supported)');
        if (frame.data === undefined) throw new HubError('invalid_frame', 'update needs data: the fields to change');
        const updated = await this.collections.update(collection, actor, targets, frame.data, query);
        return JSON.stringify(single ? updated[0] : updated);
      }
      case 'delete': {
        if (targets === undefined) throw new HubError('invalid_frame', 'delete needs id or ids (deleting by query is not supported)');
        const deleted = await this.collections.delete(collection, actor, targets);
        return JSON.stringify(single ? deleted[0] : deleted);
      }
    }
  }

  /** `subscribe` with `collection`: registered at once (changes from now on are held), then `init`, then the held changes. */
  subscribe(session: Subscriber, frame: FrameOf<'subscribe'>, fail: Fail): void {
    let sub: LiveSubscription;
    const actor = actorOf(session);
    try {
      const collection = this.collections.get(frame.collection ?? '');
      this.collections.checkAccess(collection, 'read', actor);
      const compiled = this.collections.compile(collection, frame.query);
      const done = this.admit(session);
      if (done === null) throw new HubError('too_many_requests', `At most ${MAX_INFLIGHT_ITEM_REQUESTS} items requests may wait on the store at once per connection`);
      sub = { subscriber: session, uid: frame.uid, collection, filter: compiled.store.filter, project: compiled.project, fieldsKey: compiled.fieldsKey, event: frame.event, pending: [] };
      if (!this.live.add(sub)) {
        done();
        throw new HubError('forbidden', `A connection may hold at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} data subscriptions`);
      }
      const init = this.collections.query(collection, actor, compiled);
      init.then(done, done);
      init.then(
        (items) => this.live.started(sub, items),
        (err: unknown) => {
          if (!this.live.has(sub)) return;
          this.live.end(sub);
          fail(this.asHubError(err));
        },
      );
    } catch (err) {
      fail(this.asHubError(err));
    }
  }

  /** `unsubscribe` without `channel_ids`: ends the data subscription `uid`, or all of them. */
  unsubscribe(session: Subscriber, uid: string | undefined): void {
    this.live.remove(session, uid);
    session.conn?.send(encode.unsubscribedData(uid));
  }

  /** The connection closed: its subscriptions end. */
  closed(session: Subscriber): void {
    this.live.remove(session);
  }

  private answer(reply: Promise<string>, session: Subscriber, uid: string | undefined, fail: Fail): void {
    reply.then(
      (data) => session.conn?.send(encode.items(data, uid)),
      (err: unknown) => fail(this.asHubError(err)),
    );
  }

  private asHubError(err: unknown): HubError {
    if (err instanceof HubError) return err;
    const errorId = nanoid(12);
    this.log.error('collection request failed', { error_id: errorId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    return new HubError('internal', undefined, { errorId });
  }
}
