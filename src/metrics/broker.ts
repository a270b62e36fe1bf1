/**
 * A Broker that counts what goes through it, around any broker (memory, Redis): publishes out,
 * deliveries in, and the connections each delivery reached. One count per delivery, never per socket.
 */
import type { Broker, DeliverLocally, Delivery } from '../broker/broker.js';
import { ForwardingBroker } from '../broker/forwarding.js';
import type { Metrics } from './sinks.js';

export class MeteredBroker extends ForwardingBroker {
  private started = false;

  constructor(
    inner: Broker,
    private readonly metrics: Pick<Metrics, 'brokerPublished' | 'brokerReceived' | 'delivered'>,
  ) {
    super(inner);
  }

  override async start(deliver: DeliverLocally): Promise<void> {
    const m = this.metrics;
    await this.inner.start((delivery) => {
      m.brokerReceived(delivery.kind);
      const reached = deliver(delivery);
      m.delivered(delivery.kind, reached);
      return reached;
    });
    this.started = true;
  }

  override publish(delivery: Delivery): void {
    this.metrics.brokerPublished(delivery.kind);
    this.inner.publish(delivery);
  }

  override async close(): Promise<void> {
    this.started = false;
    await this.inner.close();
  }

  /** For `walker_hub_broker_up`: started, and its link to the other nodes is up (always, for the memory broker). */
  state(): 'up' | 'down' {
    if (!this.started) return 'down';
    const { state } = this.inner.health();
    return state === 'up' || state === 'local' ? 'up' : 'down';
  }
}
