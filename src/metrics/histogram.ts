/**
 * A histogram whose observation is a bucket scan and three adds on plain numbers (prom-client's own
 * hashes its labels per call). prom-client still names, registers and formats it; what it reports
 * is replaced with these numbers, in the shape prom-client's Histogram reports its own.
 */
import { Histogram, type Registry } from 'prom-client';
import { labelsOf, SlotTree } from './tally.js';

interface Slot {
  readonly labels: Record<string, string>;
  /** Observations per bucket (not cumulative); the last is above every bound. */
  readonly counts: number[];
  sum: number;
  count: number;
}

export class FastHistogram {
  private readonly slots: SlotTree<Slot>;

  constructor(registry: Registry, name: string, help: string, labelNames: readonly [string, string], private readonly bounds: readonly number[]) {
    const slots = (this.slots = new SlotTree((a, b) => ({ labels: labelsOf(labelNames, [a, b]), counts: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 })));
    const values = () => {
      const out: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
      for (const slot of slots.all) {
        let cumulative = 0;
        bounds.forEach((le, i) => {
          cumulative += slot.counts[i] ?? 0;
          out.push({ labels: { le, ...slot.labels }, value: cumulative, metricName: `${name}_bucket` });
        });
        out.push({ labels: { le: '+Inf', ...slot.labels }, value: slot.count, metricName: `${name}_bucket` });
        out.push({ labels: slot.labels, value: slot.sum, metricName: `${name}_sum` });
        out.push({ labels: slot.labels, value: slot.count, metricName: `${name}_count` });
      }
      return out;
    };
    class Exposed extends Histogram<string> {
      /**
       * prom-client (15.1.3) builds a histogram's text from `getForPromString` and its `get` (JSON)
       * from that too, so replacing it is enough; the metrics test reads the buckets back.
       */
      async getForPromString() {
        return { name, help, type: 'histogram', aggregator: 'sum', values: values() };
      }
    }
    new Exposed({ name, help, labelNames, buckets: [...bounds], registers: [registry] });
  }

  /** A function observing into one label set, found once (a hot path keeps it). */
  observer(a: string, b: string): (value: number) => void {
    const slot = this.slots.get(a, b);
    return (value) => this.observeIn(slot, value);
  }

  private observeIn(slot: Slot, value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    slot.counts[i] = (slot.counts[i] ?? 0) + 1;
    slot.sum += value;
    slot.count++;
  }
}
