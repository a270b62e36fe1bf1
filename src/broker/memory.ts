import type { Broker, BrokerHealth, ControlListener, DeliverLocally, Delivery, TargetKind } from './broker.js';

/** The single-node broker: delivery is a direct, synchronous call; there is no other node to tell. */
export class MemoryBroker implements Broker {
  private deliver: DeliverLocally | null = null;

  async start(deliver: DeliverLocally): Promise<void> {
    this.deliver = deliver;
  }

  publish(delivery: Delivery): void {
    this.deliver?.(delivery);
  }

  track(_kind: TargetKind, _id: string): void {}
  untrack(_kind: TargetKind, _id: string): void {}
  /** One node: a target is live the moment it is tracked. */
  whenLive(_kind: TargetKind, _ids: readonly string[]): null {
    return null;
  }

  sendControl(_text: string): void {}
  onControl(_listener: ControlListener): void {}

  health(): BrokerHealth {
    return { type: 'memory', state: 'local', topics: 0, dropped: 0 };
  }

  async settled(): Promise<void> {}

  async close(): Promise<void> {
    this.deliver = null;
  }
}
