import type { Broker, DeliverLocally, Delivery } from './broker.js';

/** The single-node broker: delivery is a direct, synchronous call. */
export class MemoryBroker implements Broker {
  private deliver: DeliverLocally | null = null;

  async start(deliver: DeliverLocally): Promise<void> {
    this.deliver = deliver;
  }

  publish(delivery: Delivery): void {
    this.deliver?.(delivery);
  }

  async close(): Promise<void> {
    this.deliver = null;
  }
}
