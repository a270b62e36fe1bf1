/**
 * Cross-process fanout sits behind this one interface. A notification is encoded once, by the node
 * where it starts; the broker carries the encoded frame to every node (this one included), and each
 * node delivers it to its own matching connections.
 *
 * Delivery guarantee: at most once, in publish order per publisher; a connection that is not
 * connected at delivery time does not get the frame later.
 */

/** `broadcast` reaches every connected client, public and authenticated; its `ids` are ignored (send `[]`). */
export type TargetKind = 'clients' | 'channels' | 'users' | 'broadcast';

export interface Delivery {
  readonly kind: TargetKind;
  readonly ids: readonly string[];
  /** The JSON text sent to each target connection, exactly as-is. */
  readonly frame: string;
}

/** Returns how many local connections the frame was handed to (brokers may ignore it; metrics count it). */
export type DeliverLocally = (delivery: Delivery) => number;

/** What a broker reports of its link to the other nodes (`/metrics`); a broker without a link is always `up`. */
export type BrokerState = 'up' | 'down';

export interface Broker {
  /** Starts delivering everything published (here and on other nodes) to `deliver`. */
  start(deliver: DeliverLocally): Promise<void>;
  publish(delivery: Delivery): void;
  close(): Promise<void>;
  /** Optional: the link's state now; absent means `up` while started. */
  state?(): BrokerState;
}
