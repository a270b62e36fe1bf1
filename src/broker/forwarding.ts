/**
 * A Broker that hands every call to another one. Wrappers (metrics, history, a wire profile's
 * rewriting) extend it and override only what they change, so a method added to Broker is
 * forwarded by all of them from one place.
 */
import type { Broker, BrokerHealth, ControlListener, DeliverLocally, Delivery, TargetKind } from './broker.js';

export class ForwardingBroker implements Broker {
  constructor(protected readonly inner: Broker) {}

  start(deliver: DeliverLocally): Promise<void> {
    return this.inner.start(deliver);
  }
  publish(delivery: Delivery): void {
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
  close(): Promise<void> {
    return this.inner.close();
  }
}
