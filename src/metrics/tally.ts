/**
 * Counters whose hot path is one add to a plain number. prom-client's own `inc` hashes its labels
 * on every call; here the labels are resolved once per distinct label set (a Map lookup), and the
 * numbers are copied into a prom-client Counter only when it is scraped (its `collect`).
 */
import { Counter, type Registry } from 'prom-client';

interface Slot {
  readonly labels: Record<string, string>;
  value: number;
}

export class Tally<L extends string> {
  private readonly slots = new Map<string, Slot>();

  constructor(registry: Registry, name: string, help: string, private readonly labelNames: readonly L[]) {
    const slots = this.slots;
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      // Rebuilt from the tallies at each scrape: cost per label set, only when scraped.
      collect(this: Counter<L>) {
        this.reset();
        for (const slot of slots.values()) this.inc(slot.labels as Partial<Record<L, string>>, slot.value);
      },
    });
  }

  /**
   * Adds `n` for the label values `a`, `b`, `c` (in `labelNames` order). With one label the value is
   * its own key, so the hot paths (one label: a frame type, a delivery kind) allocate nothing.
   */
  add(n: number, a: string, b = '', c = ''): void {
    const key = b === '' && c === '' ? a : `${a}\u0000${b}\u0000${c}`;
    let slot = this.slots.get(key);
    if (slot === undefined) {
      const values = [a, b, c];
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => (labels[name] = values[i] ?? ''));
      this.slots.set(key, (slot = { labels, value: 0 }));
    }
    slot.value += n;
  }
}
