/**
 * A Broker that counts what goes through it, around any broker (memory, Redis): publishes out,
 * deliveries in, and the connections each delivery reached. One count per delivery, never per socket.
 */
import type { Broker, BrokerHealth, ControlListener, DeliverLocally, Delivery, TargetKind } from '../broker/broker.js';
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

  track(kind: TargetKind, id: string): void {
    this.inner.track(kind, id);
  }

  untrack(kind: TargetKind, id: string): void {
    this.inner.untrack(kind, id);
  }

  whenLive(kind: TargetKind, ids: readonly string[]): Promise<boolean> | null {
    return this.inner.whenLive(kind, ids);
  }

  sendControl(text: string): void {
    this.inner.sendControl(text);
  }

  onControl(listener: ControlListener): void {
    this.inner.onControl(listener);
  }

  health(): BrokerHealth {
    return this.inner.health();
  }

  settled(): Promise<void> {
    return this.inner.settled();
  }

  async close(): Promise<void> {
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
