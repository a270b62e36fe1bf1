/**
 * Cross-process fanout sits behind this one interface. A notification is encoded once, by the node
 * where it starts; the broker carries the encoded frame to every node (this one included), and each
 * node delivers it to its own matching connections.
 *
 * Delivery guarantee: at most once, in publish order per publisher; a connection that is not
 * connected at delivery time does not get the frame later.
 */

export type TargetKind = 'clients' | 'channels' | 'users';

export interface Delivery {
  readonly kind: TargetKind;
  readonly ids: readonly string[];
  /** The JSON text sent to each target connection, exactly as-is. */
  readonly frame: string;
}

export type DeliverLocally = (delivery: Delivery) => void;

export interface Broker {
  /** Starts delivering everything published (here and on other nodes) to `deliver`. */
  start(deliver: DeliverLocally): Promise<void>;
  publish(delivery: Delivery): void;
  close(): Promise<void>;
}
