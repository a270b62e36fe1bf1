/**
 * Cross-process fanout sits behind this one interface. A notification is encoded once, by the node
 * where it starts; the broker delivers it to this node's connections at once and carries the same
 * text to the other nodes that hold a target (one message per target topic), where each node
 * delivers it to its own matching connections.
 *
 * Routing is by target: the hub tells the broker when it gains its first / loses its last local
 * member of a user, channel or client (`track` / `untrack`), and a node subscribes only to those.
 *
 * Delivery guarantee: at most once, in publish order per publisher and target; a connection that is
 * not connected at delivery time does not get the frame later, and frames published while the
 * broker is disconnected reach local targets only.
 */

/** `broadcast` reaches every connected client, public and authenticated; its `ids` are ignored (send `[]`). */
export type TargetKind = 'clients' | 'channels' | 'users' | 'broadcast';

/** The one id `track`/`untrack` use for `broadcast`: a node holds it while it has any local connection. */
export const BROADCAST_ID = '*';

export interface Delivery {
  readonly kind: TargetKind;
  readonly ids: readonly string[];
  /** The JSON text sent to each target connection, exactly as-is. */
  readonly frame: string;
  /**
   * Set on copies of one notification that arrive once per target topic (a multi-channel
   * notification from another node): connections already served under the same key are skipped,
   * so a connection in several of the channels gets the frame once.
   */
  readonly key?: string;
  /** A frame of the hub's own (join/leave), not a publication: never stored in channel history. */
  readonly system?: boolean;
  /**
   * Set on a channel publication that history gave a position (in a cluster: the offset and epoch
   * the Redis script assigned), so the node can check the stream has no gap (history/streams.ts).
   */
  readonly position?: { readonly offset: number; readonly epoch: string };
}

/** Returns how many local connections the frame was handed to (brokers may ignore it; metrics count it). */
export type DeliverLocally = (delivery: Delivery) => number;

/** Cluster control traffic (revocations): opaque text, delivered to every other node. */
export type ControlListener = (text: string) => void;

export type BrokerState = 'local' | 'connecting' | 'up' | 'down';

export interface BrokerHealth {
  readonly type: 'memory' | 'redis' | 'redis-cluster';
  /** `local` for the memory broker; `down` means cross-node delivery is paused (local goes on). */
  readonly state: BrokerState;
  /** Topics this node is subscribed to (targets it holds, plus the control topic). */
  readonly topics: number;
  /** Notifications not sent to other nodes (disconnected, or the command failed), since start; one per target topic when it failed. */
  readonly dropped: number;
}

export interface Broker {
  /** Starts delivering everything published (here and on other nodes) to `deliver`. */
  start(deliver: DeliverLocally): Promise<void>;
  publish(delivery: Delivery): void;
  /** This node gained its first local member of a target. */
  track(kind: TargetKind, id: string): void;
  /** This node lost its last local member of a target. */
  untrack(kind: TargetKind, id: string): void;
  /** Sends control text (revocations) to every other node (never back to this one). */
  sendControl(text: string): void;
  onControl(listener: ControlListener): void;
  health(): BrokerHealth;
  /**
   * Whether this node's subscriptions to the given targets (tracked ones; others are ignored) are
   * live: confirmed by the server on the current connection, so a notification published anywhere
   * from now on reaches this node. `null`: live already (answer synchronously; always for the
   * memory broker). Otherwise resolves `true` once they are, or `false` when the bounded wait
   * (config `brokerConfirmTimeoutMs`) ran out or the broker is down; it never rejects.
   */
  whenLive(kind: TargetKind, ids: readonly string[]): Promise<boolean> | null;
  /** Resolves once every subscription change made so far has been acknowledged (or cannot be sent now). */
  settled(): Promise<void>;
  close(): Promise<void>;
}
