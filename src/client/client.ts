/**
 * One hub connection kept alive: connect, match replies to requests by `uid`, ping, and reconnect
 * with backoff (re-applying the token and re-subscribing channels, recovering history channels from
 * the last publication seen). Runs in browsers and Node.
 */
import type { ConnectionInfo, FrameOf, HistoryPosition, ItemQuery, PresenceClient } from '../protocol.js';
import { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff.js';
import { Emitter, type AnyListener } from './emitter.js';
import { HubClientError } from './errors.js';
import { Pending } from './pending.js';
import { channelsOf, clientsOf, connectionInfo, errorOf, historyOf, membershipOf, positionOf, statsOf, subscribedOf } from './replies.js';
import { OPEN, onUpgradeRefused, resolveSocket, socketUrl, type SocketConstructor, type SocketLike } from './socket.js';
import { lifecycleEvents, type ItemsApi, type ItemsEvent, type ItemsSubscription, type CallOptions, type ConnectOptions, type DisconnectInfo, type Frame, type History, type HistoryOptions, type LifecycleEvents, type MembershipEvents, type PresenceStats } from './types.js';

/** Any JSON value but undefined, as the protocol requires of a payload. */
type Payload = FrameOf<'user'>['data'];
type Outbound = FrameOf<'walker'> | FrameOf<'client'> | FrameOf<'channel'> | FrameOf<'user'> | FrameOf<'change_user'> | FrameOf<'subscribe'> | FrameOf<'unsubscribe'> | FrameOf<'presence'> | FrameOf<'presence_stats'> | FrameOf<'history'> | FrameOf<'ping'> | FrameOf<'items'>;

/** A data subscription kept across reconnects: its uid stays, its query is sent again (its init then replaces the app's copy). */
interface DataSubscription {
  readonly collection: string;
  readonly query: ItemQuery | undefined;
  readonly handler: (event: ItemsEvent) => void;
}

export class HubClient {
  /** The current connection's ids; null until the first `connection` frame. */
  info: ConnectionInfo | null = null;
  /** Resolves with `info` once first connected; rejects if the client is closed first. */
  readonly ready: Promise<ConnectionInfo>;

  private readonly emitter: Emitter<unknown>;
  private readonly pending = new Pending();
  private readonly backoff: BackoffOptions;
  private readonly timeoutMs: number;
  private token: string | null;
  /** Channels joined with subscribe(), re-joined after a reconnect (the connection's own channel is in the URL). */
  private readonly channels = new Set<string>();
  /** History channels: the last publication delivered (or the top when joined); a reconnect recovers from here. */
  private readonly positions = new Map<string, HistoryPosition>();
  /** Data subscriptions by uid (subscribeItems). */
  private readonly dataSubs = new Map<string, DataSubscription>();
  /**
   * The connection's own channel (`?channel_id=`) while its recovery after a reconnect is asked:
   * it is joined before that (at the upgrade), so live publications may come first; they are covered
   * by the recovery (replayed after its reply) or by the app's reload, so they are not handled.
   */
  private holding: string | null = null;
  private socket: SocketLike | null = null;
  /** True once the current socket has delivered its `connection` frame. */
  private live = false;
  private everConnected = false;
  private closed = false;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private settleReady!: { resolve: (info: ConnectionInfo) => void; reject: (err: Error) => void };

  constructor(
    private readonly url: string,
    private readonly options: ConnectOptions = {},
  ) {
    // A malformed URL is the caller's bug: throw now rather than retry it for ever.
    socketUrl(url, null, options.channelId);
    this.token = options.token ?? null;
    this.backoff = { ...defaultBackoff, ...options.backoff };
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.emitter = new Emitter(options.onListenerError ?? ((err) => console.error('walker-hub/client: a listener threw', err)));
    this.ready = new Promise((resolve, reject) => (this.settleReady = { resolve, reject }));
    // A client closed before it connected rejects `ready`; that must not be an unhandled rejection
    // for callers who never awaited it. Awaiting it still sees the rejection.
    this.ready.catch(() => undefined);
    void this.open();
  }

  on<E extends keyof LifecycleEvents>(type: E, fn: (value: LifecycleEvents[E]) => void): this;
  on<E extends keyof MembershipEvents>(type: E, fn: (value: MembershipEvents[E]) => void): this;
  on(type: string, fn: (frame: Frame) => void): this;
  on(type: string, fn: (value: never) => void): this {
    this.emitter.on(type, fn as (value: unknown) => void);
    return this;
  }

  /** Removes one listener, or every listener of `type` when `fn` is absent. */
  off(type: string, fn?: (value: never) => void): this {
    this.emitter.off(type, fn as ((value: unknown) => void) | undefined);
    return this;
  }

  /** Every incoming frame that is not a reply to this client's own request. */
  onAny(fn: (type: string, frame: Frame) => void): this {
    this.emitter.onAny(fn as AnyListener<unknown>);
    return this;
  }

  offAny(fn?: (type: string, frame: Frame) => void): this {
    this.emitter.offAny(fn as AnyListener<unknown> | undefined);
    return this;
  }

  /** Runs a walker and resolves with its `reports`; a walker error rejects with its status and code. */
  async call(walker: string, context: Record<string, unknown> = {}, options: CallOptions = {}): Promise<unknown[]> {
    const reply = await this.request({ type: 'walker', walker, context, response: true, ...(options.node !== undefined ? { node: options.node } : {}) }, options.timeoutMs, `walker ${walker}`);
    if (reply.type === 'walker' && reply['status'] === 200 && Array.isArray(reply['reports'])) return reply['reports'] as unknown[];
    throw errorOf(reply);
  }

  /** Resolves once the hub has taken the delivery (`ack`); rejects when it is refused (e.g. `forbidden`). */
  sendToUsers(rootIds: string[], data: Payload): Promise<void> {
    return this.acked({ type: 'user', root_ids: rootIds, data }, 'user');
  }

  sendToChannels(channelIds: string[], data: Payload): Promise<void> {
    return this.acked({ type: 'channel', channel_ids: channelIds, data }, 'channel');
  }

  sendToClients(clientIds: string[], data: Payload): Promise<void> {
    return this.acked({ type: 'client', client_ids: clientIds, data }, 'client');
  }

  /** Joins channels (kept across reconnects); resolves with every channel the connection is in now. */
  async subscribe(channelIds: string[]): Promise<string[]> {
    const reply = await this.request({ type: 'subscribe', channel_ids: channelIds }, undefined, 'subscribe');
    for (const id of channelIds) this.channels.add(id);
    return channelsOf(reply);
  }

  async unsubscribe(channelIds: string[]): Promise<string[]> {
    const reply = await this.request({ type: 'unsubscribe', channel_ids: channelIds }, undefined, 'unsubscribe');
    for (const id of channelIds) {
      this.channels.delete(id);
      this.positions.delete(id);
    }
    return channelsOf(reply);
  }

  /**
   * Who is in a channel (a namespace with presence): each connection with its user's root. A refusal
   * (presence off, or not a member where only members may ask) rejects with `forbidden`.
   */
  presence(channelId: string): Promise<PresenceClient[]> {
    return this.ask({ type: 'presence', channel_id: channelId }, clientsOf);
  }

  /** How many connections and distinct users a channel has; refused like `presence`. */
  presenceStats(channelId: string): Promise<PresenceStats> {
    return this.ask({ type: 'presence_stats', channel_id: channelId }, statsOf);
  }

  /** A history channel's kept publications (the latest `limit`, or those after `since`); refused (no history, no permission) rejects. */
  history(channelId: string, options: HistoryOptions = {}): Promise<History> {
    const { limit, since } = options;
    return this.ask({ type: 'history', channel_id: channelId, ...(limit !== undefined ? { limit } : {}), ...(since !== undefined ? { since } : {}) }, historyOf);
  }

  /**
   * CRUD on a collection's items (docs/collections.md); refusals reject with the hub's code
   * (`unauthorized`, `forbidden`, `invalid_item` with its issues, `not_found`, ...).
   */
  items<T = Record<string, unknown>>(collection: string): ItemsApi<T> {
    const run = async (frame: Omit<FrameOf<'items'>, 'type' | 'collection'>): Promise<unknown> => {
      const reply = await this.request({ type: 'items', collection, ...frame }, undefined, `items ${collection}`);
      if (reply.type === 'items' && 'data' in reply) return reply['data'];
      throw errorOf(reply);
    };
    return {
      create: ((data: unknown) => run({ action: 'create', data })) as ItemsApi<T>['create'],
      read: (query) => run({ action: 'read', ...(query ? { query } : {}) }) as Promise<T[]>,
      get: (id, query) => run({ action: 'read', id, ...(query ? { query } : {}) }) as Promise<T>,
      update: (id, data) => run({ action: 'update', id, data }) as Promise<T>,
      delete: async (ids) => {
        const out = await run(typeof ids === 'string' ? { action: 'delete', id: ids } : { action: 'delete', ids });
        return (Array.isArray(out) ? out : [out]) as string[];
      },
    };
  }

  /**
   * Subscribes to a collection's changes: `handler` gets `init` (the items matching `query`), then
   * `create` / `update` / `delete` events (apply updates as upserts; a `delete` also says an item
   * left the query's filter). Resolves once `init` was handled; a refusal rejects. After a reconnect
   * it subscribes again, and that `init` replaces what the app holds.
   */
  async subscribeItems<T = Record<string, unknown>>(collection: string, query: ItemQuery | undefined, handler: (event: ItemsEvent<T>) => void): Promise<ItemsSubscription> {
    const uid = this.pending.nextUid();
    const sub: DataSubscription = { collection, query, handler: handler as (event: ItemsEvent) => void };
    this.dataSubs.set(uid, sub);
    try {
      await this.startData(uid, sub);
    } catch (err) {
      this.dataSubs.delete(uid);
      throw err;
    }
    return {
      unsubscribe: async () => {
        if (!this.dataSubs.delete(uid)) return;
        if (this.live) await this.request({ type: 'unsubscribe', uid }, undefined, 'unsubscribe').catch(() => undefined);
      },
    };
  }

  /** Sends the subscription under its own uid and waits for its `init` (handled in `receive`) or a refusal. */
  private async startData(uid: string, sub: DataSubscription): Promise<void> {
    // Sent first: a socket that is not open throws here, before anything waits. The reply cannot
    // arrive before the wait starts (frames come in later event-loop turns).
    this.send({ type: 'subscribe', collection: sub.collection, ...(sub.query ? { query: sub.query } : {}), uid });
    const frame = await this.pending.wait(uid, this.timeoutMs, `subscribe ${sub.collection}`);
    if (frame.type === 'error') throw errorOf(frame);
  }

  /**
   * Switches the connection's user (no token: public). Resolves with the new `info`; a refused
   * token rejects with `invalid_token`, and the connection is then public (so is every reconnect).
   */
  async changeUser(token?: string | null): Promise<ConnectionInfo> {
    const uid = this.pending.nextUid();
    const bearer = token ?? null;
    this.token = bearer;
    this.send({ type: 'change_user', token: bearer, uid });
    // The hub answers a refused token with an error and then the (public) connection frame, both
    // with the uid; they can arrive in one read, so the error is held until the connection frame.
    let refused: Frame | null = null;
    const reply = await this.pending.wait(uid, this.timeoutMs, 'change_user', (frame) => frame.type === 'error' && (refused = frame) !== null);
    const info = this.connectionOf(reply);
    if (refused === null) return info;
    this.token = null;
    throw errorOf(refused);
  }

  /** Closes for good: no reconnect; requests still waiting reject with `closed`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.detach();
    socket?.close(1000, 'client closed');
    const err = new HubClientError(0, { code: 'closed', message: 'the client was closed' });
    this.pending.rejectAll(err);
    this.settleReady.reject(err);
  }

  get connected(): boolean {
    return this.live;
  }

  // ------------------------------------------------------------------------------------------

  private async open(): Promise<void> {
    let Socket: SocketConstructor;
    try {
      Socket = await resolveSocket(this.options.WebSocket);
    } catch (err) {
      // No WebSocket implementation: no retry can bring one.
      return this.fail(new HubClientError(0, { code: 'no_websocket', message: (err as Error).message }));
    }
    let socket: SocketLike;
    try {
      if (this.options.getToken) this.token = (await this.options.getToken()) ?? null;
      if (this.closed) return;
      socket = new Socket(socketUrl(this.url, this.token, this.options.channelId ?? this.info?.channel_id));
    } catch (err) {
      // A failing getToken: retried like a refused connection.
      this.emitter.emit('error', { type: 'error', error: { code: 'connect_failed', message: (err as Error).message } });
      return this.scheduleRetry();
    }
    this.socket = socket;
    let refused: HubClientError | null = null;
    onUpgradeRefused(socket, (status, body) => (refused = refusalError(status, body)));
    socket.onmessage = (event: { data: unknown }) => this.receive(socket, event.data);
    socket.onclose = (event: { code: number; reason: string }) => this.dropped(socket, { code: event.code, reason: event.reason }, refused);
    // An error event is always followed by a close event; the close decides what happens next.
    socket.onerror = () => undefined;
  }

  /** Gives up for good on a failure retrying cannot fix: `ready` and waiting requests reject with it. */
  private fail(err: HubClientError): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.detach();
    this.emitter.emit('error', { type: 'error', error: { code: err.code, message: err.message } });
    this.pending.rejectAll(err);
    this.settleReady.reject(err);
  }

  private receive(socket: SocketLike, data: unknown): void {
    if (socket !== this.socket || typeof data !== 'string') return;
    let frame: Frame;
    try {
      const parsed: unknown = JSON.parse(data);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return;
      frame = parsed as Frame;
    } catch {
      // The hub only sends JSON; anything else is not ours to deliver. Nothing to recover.
      return;
    }
    if (!this.live) {
      if (frame.type === 'connection') void this.onConnectionFrame(frame);
      return;
    }
    const uid = frame['uid'];
    // Positions are taken, and `subscribed` emitted, before any replayed publication that follows
    // in the same read is handled; the awaiting request resumes only later, in a microtask.
    if (typeof uid === 'string' && frame.type === 'subscribed' && this.pending.has(uid)) this.joined(frame);
    // Unasked (no uid): the hub lost part of a channel's stream (a gap it could not fill, or a new
    // epoch) and says where it goes on from; the app hears `subscribed` with recovered false.
    if (uid === undefined && frame.type === 'subscribed' && 'recovered' in frame) return this.joined(frame);
    // Data subscription frames go to their handler at once, in order (init first, settling its request).
    if (typeof uid === 'string' && frame.type === 'subscription' && this.dataSubs.has(uid)) {
      const sub = this.dataSubs.get(uid) as DataSubscription;
      const event = frame['event'];
      if ((event === 'init' || event === 'create' || event === 'update' || event === 'delete') && Array.isArray(frame['data'])) {
        try {
          sub.handler({ event, data: frame['data'] as ItemsEvent['data'] });
        } catch (err) {
          this.emitter.emit('error', { type: 'error', error: { code: 'listener_failed', message: `subscribeItems handler threw: ${(err as Error).message}` } });
        }
      }
      if (event === 'init') this.pending.settle(uid, frame);
      return;
    }
    if (typeof uid === 'string' && this.pending.settle(uid, frame)) return;
    if (frame.type === 'connection') this.info = connectionInfo(frame) ?? this.info;
    if (frame.type === 'publication' && this.holding !== null && frame['channel_id'] === this.holding) return;
    if (frame.type === 'publication' && this.publication(frame)) return;
    this.deliver(frame);
  }

  /** A notification to its listeners, by `type`. */
  private deliver(frame: Frame): void {
    const type = typeof frame.type === 'string' ? frame.type : 'message';
    // A peer cannot fake the SDK's own events: frames named like them reach catch-all listeners only.
    if (lifecycleEvents.has(type)) this.emitter.emitAny(type, frame);
    else if (type === 'join' || type === 'leave') this.membership(type, frame);
    else this.emitter.emit(type, frame);
  }

  /**
   * A history channel's publication: listeners get its data as a plain notification (as from a
   * channel without history); it moves the channel's position. False when it is not one (a peer's
   * payload of that type, or for a channel this connection is not in): delivered as it came.
   */
  private publication(frame: Frame): boolean {
    const channel = frame['channel_id'];
    const at = positionOf(frame);
    if (typeof channel !== 'string' || !at || !('data' in frame) || !(this.channels.has(channel) || this.info?.channel_id === channel)) return false;
    const known = this.positions.get(channel);
    // The hub replays each missed publication once; this guards the app against seeing one twice anyway.
    if (known && known.epoch === at.epoch && at.offset <= known.offset) return true;
    this.positions.set(channel, at);
    const data = frame['data'];
    // Like a plain notification: only a JSON object is a frame an app can listen to by type.
    if (typeof data === 'object' && data !== null && !Array.isArray(data)) this.deliver(data as Frame);
    return true;
  }

  /**
   * A `subscribed` reply: where each history channel is now. A recovered channel keeps its old
   * position, since the replayed publications that follow move it; any other starts at the top.
   */
  private joined(frame: Frame): void {
    // The replayed publications that follow are handled.
    this.holding = null;
    for (const channel of subscribedOf(frame)) {
      const from = this.positions.get(channel.channel_id);
      const missed = channel.recovered === true && channel.position && from ? channel.position.offset - from.offset : 0;
      if (channel.position === null) this.positions.delete(channel.channel_id);
      else if (channel.recovered !== true) this.positions.set(channel.channel_id, channel.position);
      this.emitter.emit('subscribed', { ...channel, missed }, false);
    }
  }

  /**
   * `join` / `leave` listeners get `{channel_id, client}`, typed, so only frames of the hub's shape
   * reach them; `onAny` gets every such frame whole, as it gets everything else.
   */
  private membership(type: keyof MembershipEvents, frame: Frame): void {
    const change = membershipOf(frame);
    if (change) this.emitter.emit(type, change, false);
    this.emitter.emitAny(type, frame);
  }

  /** The socket's first frame: the link is usable; restore what the previous link had, then announce it. */
  private async onConnectionFrame(frame: Frame): Promise<void> {
    const info = connectionInfo(frame);
    if (!info) return;
    this.info = info;
    this.live = true;
    this.attempt = 0;
    this.startPings();
    const reconnected = this.everConnected;
    this.everConnected = true;
    // The connection's own channel, when it keeps history and a publication of it was seen: recovered too.
    const own = this.channels.has(info.channel_id) ? undefined : this.positions.get(info.channel_id);
    if (reconnected && (this.channels.size > 0 || own !== undefined)) {
      try {
        const since = Object.fromEntries([...this.positions].filter(([id]) => this.channels.has(id)));
        const ids = [...this.channels];
        if (own !== undefined) {
          since[info.channel_id] = own;
          ids.push(info.channel_id);
          this.holding = info.channel_id;
        }
        await this.request({ type: 'subscribe', channel_ids: ids, ...(Object.keys(since).length > 0 ? { since } : {}) }, undefined, 'subscribe');
      } catch (err) {
        this.holding = null;
        this.emitter.emit('error', { type: 'error', error: { code: (err as HubClientError).code, message: `re-subscribe failed: ${(err as Error).message}` } });
        if ((err as HubClientError).code === 'disconnected') return;
      }
    }
    if (reconnected) {
      for (const [uid, sub] of this.dataSubs) {
        try {
          await this.startData(uid, sub);
        } catch (err) {
          this.emitter.emit('error', { type: 'error', error: { code: (err as HubClientError).code, message: `re-subscribe to ${sub.collection} failed: ${(err as Error).message}` } });
          if ((err as HubClientError).code === 'disconnected') return;
        }
      }
    }
    this.settleReady.resolve(info);
    if (reconnected) this.emitter.emit('reconnect', info, false);
    this.emitter.emit('connect', info, false);
  }

  private dropped(socket: SocketLike, why: DisconnectInfo, refused: HubClientError | null): void {
    if (socket !== this.socket) return;
    const wasLive = this.live;
    this.detach();
    this.pending.rejectAll(new HubClientError(0, { code: 'disconnected', message: `connection lost (${why.code}${why.reason ? `: ${why.reason}` : ''}) before the reply; the request may or may not have run` }));
    if (wasLive) this.emitter.emit('disconnect', why, false);
    else if (refused) {
      // The hub said no (ws shows its answer). Before the first connection that is a setup mistake
      // no retry fixes: a refused origin (403), or a bad token (401) unless getToken may bring a
      // new one. After it, the hub may be restarting with other settings: keep trying.
      if (!this.everConnected && (refused.status === 403 || (refused.status === 401 && !this.options.getToken))) return this.fail(refused);
      this.emitter.emit('error', { type: 'error', error: { code: refused.code, message: refused.message } });
    }
    // Browsers hide why an upgrade failed (a refused token's 401 looks like any network error), so
    // say that this attempt never got its connection frame; the app may then drop a stale token.
    else this.emitter.emit('error', { type: 'error', error: { code: 'connect_failed', message: `connection closed before it was ready (${why.code})` } });
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    if (this.options.reconnect === false) {
      this.closed = true;
      this.settleReady.reject(new HubClientError(0, { code: 'disconnected', message: 'could not connect (reconnect is off)' }));
      return;
    }
    const delay = backoffDelay(this.attempt++, this.backoff);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.open();
    }, delay);
  }

  private detach(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    const socket = this.socket;
    this.socket = null;
    this.live = false;
    if (!socket) return;
    socket.onmessage = socket.onclose = null;
    // Still listened to: ws emits 'error' when a socket is closed mid-handshake, and an EventEmitter
    // error with no listener would throw out of the event loop.
    socket.onerror = () => undefined;
  }

  private startPings(): void {
    const interval = this.options.pingIntervalMs ?? 25_000;
    if (interval <= 0) return;
    const timeout = this.options.pingTimeoutMs ?? 10_000;
    this.pingTimer = setInterval(() => {
      const socket = this.socket;
      if (!socket || !this.live) return;
      const uid = this.pending.nextUid();
      this.pending.wait(uid, timeout, 'ping').then(
        () => undefined,
        (err: HubClientError) => {
          // Only an unanswered ping means a dead link; a drop already handled itself.
          if (err.code !== 'timeout' || socket !== this.socket) return;
          abandon(socket);
          this.dropped(socket, { code: 4000, reason: `no pong within ${timeout} ms` }, null);
        },
      );
      this.send({ type: 'ping', uid });
    }, interval);
  }

  private send(frame: Outbound): void {
    const socket = this.socket;
    if (!socket || !this.live || socket.readyState !== OPEN) throw new HubClientError(0, { code: 'disconnected', message: 'not connected' });
    socket.send(JSON.stringify(frame));
  }

  private request(frame: Outbound, timeoutMs: number | undefined, what: string): Promise<Frame> {
    const uid = this.pending.nextUid();
    try {
      this.send({ ...frame, uid });
    } catch (err) {
      return Promise.reject(err);
    }
    return this.pending.wait(uid, timeoutMs ?? this.timeoutMs, what).then((reply) => {
      if (reply.type === 'error') throw errorOf(reply);
      return reply;
    });
  }

  /** A request whose reply `read` turns into the result; a reply it cannot read rejects as malformed. */
  private async ask<T>(frame: Outbound, read: (reply: Frame) => T | null): Promise<T> {
    const reply = await this.request(frame, undefined, frame.type);
    const value = read(reply);
    if (value !== null) return value;
    throw errorOf(reply);
  }

  private acked(frame: Outbound, what: string): Promise<void> {
    const done = this.request(frame, undefined, what).then(() => undefined);
    // Fire-and-forget callers need not await; awaiting callers still see a refusal.
    done.catch(() => undefined);
    return done;
  }

  private connectionOf(frame: Frame): ConnectionInfo {
    const info = connectionInfo(frame);
    if (!info) throw new HubClientError(0, { code: 'disconnected', message: 'unexpected reply to change_user' });
    this.info = info;
    return info;
  }
}

/** Drops a socket without waiting for a closing handshake that a dead link will never complete. */
function abandon(socket: SocketLike): void {
  const terminate = (socket as { terminate?: () => void }).terminate;
  if (typeof terminate === 'function') terminate.call(socket);
  else socket.close(4000, 'ping timeout');
}

/** The hub's refusal of an upgrade as an error: its `{ error: { code, message } }` body when it sent one. */
function refusalError(status: number, body: string): HubClientError {
  let error: { code?: unknown; message?: unknown } | undefined;
  try {
    error = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  } catch {
    // Not the hub's JSON (a proxy's page, say): the status alone is reported below.
    error = undefined;
  }
  if (typeof error?.code === 'string' && typeof error.message === 'string') return new HubClientError(status, { code: error.code, message: error.message });
  return new HubClientError(status, { code: 'upgrade_refused', message: `the upgrade was refused with HTTP ${status}` });
}
