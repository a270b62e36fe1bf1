/** `GET /healthz`: liveness, with the counts an operator looks at first. */
import type { RegistryCounts } from '../hub/registry.js';

export interface HealthSources {
  readonly walkers: number;
  readonly store: string;
  counts(): RegistryCounts;
}

export function createHealth(sources: HealthSources): () => Record<string, unknown> {
  const startedAt = Date.now();
  return () => ({ status: 'ok', uptime_s: Math.round((Date.now() - startedAt) / 1000), walkers: sources.walkers, store: sources.store, ...sources.counts() });
}
