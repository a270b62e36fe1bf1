/**
 * The walkers being served, by name. Without `--watch` it holds what was loaded at start and never
 * changes; with it, the folder watcher (watch.ts) swaps in a whole new map after each change, so a
 * lookup sees either the old set or the new one, never a mix. A call keeps the `LoadedWalker` it
 * looked up, so it finishes on the version it started with whatever is swapped in meanwhile.
 */
import type { LoadedWalker } from './loader.js';

/** What the runner reads: a plain Map (tests, embedders) or the registry. */
export type WalkerSource = Pick<ReadonlyMap<string, LoadedWalker>, 'get' | 'size'>;

export class WalkerRegistry implements WalkerSource {
  private walkers: ReadonlyMap<string, LoadedWalker>;
  private readonly listeners = new Set<(walkers: ReadonlyMap<string, LoadedWalker>) => void>();

  constructor(initial: ReadonlyMap<string, LoadedWalker>) {
    this.walkers = initial;
  }

  /** The map served now; replaced, not changed, when walkers change. */
  get current(): ReadonlyMap<string, LoadedWalker> {
    return this.walkers;
  }

  get(name: string): LoadedWalker | undefined {
    return this.walkers.get(name);
  }

  get size(): number {
    return this.walkers.size;
  }

  /** Serves `next` from now on and tells the listeners (the OpenAPI document, ...). */
  replace(next: ReadonlyMap<string, LoadedWalker>): void {
    this.walkers = next;
    for (const listener of this.listeners) listener(next);
  }

  /** Calls `listener` after each replace; returns how to stop. */
  onChange(listener: (walkers: ReadonlyMap<string, LoadedWalker>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
