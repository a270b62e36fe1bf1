/**
 * A Broker that counts what goes through it, around any broker (memory, Redis): publishes out,
 * deliveries in, and the connections each delivery reached. One count per delivery, never per socket.
 */
import type { Broker, BrokerState, DeliverLocally, Delivery } from '../broker/broker.js';
import type { Metrics } from './sinks.js';

export class MeteredBroker implements Broker {
  private started = false;

  constructor(
    private readonly inner: Broker,
    private readonly metrics: Pick<Metrics, 'brokerPublished' | 'brokerReceived' | 'delivered'>,
  ) {}

  async start(deliver: DeliverLocally): Promise<void> {
    const m = this.metrics;
    await this.inner.start((delivery) => {
      m.brokerReceived(delivery.kind);
      const reached = deliver(delivery);
      m.delivered(delivery.kind, reached);
      return reached;
    });
    this.started = true;
  }

  publish(delivery: Delivery): void {
    this.metrics.brokerPublished(delivery.kind);
    this.inner.publish(delivery);
  }

  async close(): Promise<void> {
    this.started = false;
    await this.inner.close();
  }

  state(): BrokerState {
    if (!this.started) return 'down';
    return this.inner.state?.() ?? 'up';
  }
}
