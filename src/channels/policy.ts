/**
 * What a connection may do on a channel, from its namespace's options. Synchronous and
 * allocation-light: a name's namespace is found with one indexOf and one map lookup.
 */
import { isAuthenticated, type Identity } from '../auth/identity.js';
import { HubError } from '../errors.js';
import type { ChannelsFile, NamespaceOptions, PresenceAccess } from './schema.js';

/** Who may send peer frames (`client`, `channel`, `user`) by the hub's `peerEvents` setting. */
export type PeerPolicy = 'authenticated' | 'public' | 'off';

/** The options of channels in the default namespace when the file configures none: today's behaviour. */
const TODAY: NamespaceOptions = { subscribe: 'public', presence: false, join_leave: false, user_limited: false, history_size: 0, history_ttl: 0, history: 'subscribers', max_recovery: 300 };

/** A namespace as it is checked: its options, with `presence` resolved to who may ask. */
export interface Namespace {
  /** `''` for the default namespace. */
  readonly name: string;
  readonly options: NamespaceOptions;
  readonly presence: PresenceAccess;
  /** Null when the namespace keeps no history. */
  readonly history: HistoryOptions | null;
}

/** How a namespace's channels keep history. */
export interface HistoryOptions {
  /** Publications kept per channel. */
  readonly size: number;
  readonly ttlMs: number;
  readonly maxRecovery: number;
}

export type SubscribeVerdict = { ok: true; walker: string | undefined } | { ok: false; error: HubError };

export class ChannelPolicy {
  private readonly byName = new Map<string, Namespace>();
  private readonly fallback: Namespace;
  private readonly denyUnknown: boolean;

  constructor(file: ChannelsFile) {
    this.fallback = namespace('', file.default ?? TODAY);
    for (const [name, options] of Object.entries(file.namespaces)) this.byName.set(name, namespace(name, options));
    this.denyUnknown = file.unknown_namespaces === 'deny';
  }

  /** The namespace of `channel`; null when it names one that is not configured and those are denied. */
  namespaceOf(channel: string): Namespace | null {
    const colon = channel.indexOf(':');
    if (colon < 0) return this.fallback;
    const found = this.byName.get(channel.slice(0, colon));
    if (found !== undefined) return found;
    return this.denyUnknown ? null : this.fallback;
  }

  /**
   * May `identity` join `channel` by its own request (a `subscribe` frame or `?channel_id=`)? When
   * allowed, `walker` names the namespace's subscribe walker, which must still agree.
   */
  canSubscribe(identity: Identity, channel: string): SubscribeVerdict {
    const ns = this.namespaceOf(channel);
    if (ns === null) return denied(channel, 'is in a namespace this hub does not know');
    const { options } = ns;
    if (options.subscribe === 'none') return denied(channel, 'is joined by the server only');
    if (options.subscribe === 'authenticated' && !isAuthenticated(identity)) return denied(channel, 'requires an authenticated connection');
    if (options.user_limited) {
      const allowed = limitedTo(channel);
      if (allowed !== null && !allowed.includes(identity.root_id)) return denied(channel, 'is limited to the users it names');
    }
    return { ok: true, walker: options.subscribe_walker };
  }

  /**
   * May `identity` send a `channel` frame to `channel`? `member`: it is in the channel. Undefined
   * when the namespace sets no `publish` rule: then the hub's `peerEvents` decides, as without a file.
   */
  canPublish(identity: Identity, channel: string, member: boolean): HubError | null | undefined {
    const ns = this.namespaceOf(channel);
    if (ns === null) return forbidden(channel, 'is in a namespace this hub does not know');
    const rule = ns.options.publish;
    if (rule === undefined) return undefined;
    return allows(rule, identity, member) ? null : forbidden(channel, publishWhy[rule]);
  }

  /** The channel's history options, or null when it keeps none. */
  historyOf(channel: string): HistoryOptions | null {
    const ns = this.namespaceOf(channel);
    if (ns === null || ns.options.history_size === 0) return null;
    return ns.history;
  }

  /** May `identity` read `channel`'s history? */
  canReadHistory(identity: Identity, channel: string, member: boolean): HubError | null {
    const ns = this.namespaceOf(channel);
    if (ns === null) return forbidden(channel, 'is in a namespace this hub does not know');
    if (ns.history === null) return forbidden(channel, 'keeps no history');
    const rule = ns.options.history;
    return allows(rule, identity, member) ? null : forbidden(channel, rule === 'none' ? 'has history for the server only' : publishWhy[rule]);
  }

  /** Whether any namespace (or the default) keeps history. */
  get anyHistory(): boolean {
    return this.fallback.history !== null || [...this.byName.values()].some((ns) => ns.history !== null);
  }

  /** May `identity` ask who is in `channel`? */
  canSeePresence(identity: Identity, channel: string, member: boolean): HubError | null {
    const ns = this.namespaceOf(channel);
    if (ns === null) return forbidden(channel, 'is in a namespace this hub does not know');
    if (ns.presence === 'none') return forbidden(channel, 'has no presence');
    return allows(ns.presence, identity, member) ? null : forbidden(channel, publishWhy[ns.presence]);
  }
}

function namespace(name: string, options: NamespaceOptions): Namespace {
  const presence: PresenceAccess = options.presence === true ? 'subscribers' : options.presence === false ? 'none' : options.presence;
  const history = options.history_size > 0 ? { size: options.history_size, ttlMs: options.history_ttl * 1000, maxRecovery: options.max_recovery } : null;
  return { name, options, presence, history };
}

function allows(rule: PeerPolicy | 'subscribers' | 'none', identity: Identity, member: boolean): boolean {
  switch (rule) {
    case 'public':
      return true;
    case 'authenticated':
      return isAuthenticated(identity);
    case 'subscribers':
      return member;
    case 'none':
    case 'off':
      return false;
  }
}

const publishWhy: Record<PeerPolicy | 'subscribers' | 'none', string> = {
  public: '',
  authenticated: 'requires an authenticated connection',
  subscribers: 'is open to its members only',
  none: 'is closed to clients',
  off: 'is closed to clients (peer events are off)',
};

/** The roots a user-limited channel names after `#` (comma-separated), or null when it names none. */
function limitedTo(channel: string): string[] | null {
  const hash = channel.indexOf('#');
  if (hash < 0) return null;
  return channel.slice(hash + 1).split(',');
}

function forbidden(channel: string, why: string): HubError {
  return new HubError('forbidden', `Channel "${channel.slice(0, 128)}" ${why}`);
}

function denied(channel: string, why: string): SubscribeVerdict {
  return { ok: false, error: forbidden(channel, why) };
}
