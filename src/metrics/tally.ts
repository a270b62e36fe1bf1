/**
 * Counters whose hot path is one add to a plain number. prom-client's own `inc` hashes its labels
 * into a string on every call; here each label set is found through nested Maps keyed by the label
 * values themselves (no string is built per call), and the numbers are copied into a prom-client
 * Counter only when it is scraped (its `collect`).
 */
import { Counter, type Registry } from 'prom-client';

interface Slot {
  readonly labels: Record<string, string>;
  value: number;
}

/** Up to three label values -> a slot, created on first use. */
export class SlotTree<S> {
  private readonly root = new Map<string, Map<string, Map<string, S>>>();
  /** Slots of one label value (`b` and `c` empty): one lookup instead of three (frames by type, errors by code). */
  private readonly flat = new Map<string, S>();
  readonly all: S[] = [];

  constructor(private readonly create: (a: string, b: string, c: string) => S) {}

  get(a: string, b = '', c = ''): S {
    if (b === '' && c === '') {
      let slot = this.flat.get(a);
      if (slot === undefined) this.flat.set(a, (slot = this.find(a, b, c)));
      return slot;
    }
    return this.find(a, b, c);
  }

  private find(a: string, b: string, c: string): S {
    let level1 = this.root.get(a);
    if (level1 === undefined) this.root.set(a, (level1 = new Map()));
    let level2 = level1.get(b);
    if (level2 === undefined) level1.set(b, (level2 = new Map()));
    let slot = level2.get(c);
    if (slot === undefined) {
      level2.set(c, (slot = this.create(a, b, c)));
      this.all.push(slot);
    }
    return slot;
  }
}

/** The labels of a slot: `names[i]` = the i-th value. */
export function labelsOf(names: readonly string[], values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  names.forEach((name, i) => (labels[name] = values[i] ?? ''));
  return labels;
}

export class Tally<L extends string> {
  private readonly slots: SlotTree<Slot>;

  constructor(registry: Registry, name: string, help: string, labelNames: readonly L[]) {
    if (labelNames.length > 3) throw new Error(`${name}: at most 3 labels`);
    const slots = (this.slots = new SlotTree((a, b, c) => ({ labels: labelsOf(labelNames, [a, b, c]), value: 0 })));
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      // Rebuilt from the tallies at each scrape: cost per label set, only when scraped.
      collect(this: Counter<L>) {
        this.reset();
        for (const slot of slots.all) this.inc(slot.labels as Partial<Record<L, string>>, slot.value);
      },
    });
  }

  /** Adds `n` for the label values `a`, `b`, `c` (in `labelNames` order). */
  add(n: number, a: string, b = '', c = ''): void {
    this.slots.get(a, b, c).value += n;
  }

  /** The counter of one label set, to keep and add to directly (`counter.value += n`) on a hot path. */
  counter(a: string, b = '', c = ''): { value: number } {
    return this.slots.get(a, b, c);
  }
}
