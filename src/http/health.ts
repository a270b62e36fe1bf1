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

/** `GET /readyz`: readiness for a load balancer: 200 while taking traffic, 503 once draining. `/healthz` stays liveness. */
export function createReadiness(isDraining: () => boolean): () => { status: number; body: Record<string, unknown> } {
  return () => (isDraining() ? { status: 503, body: { status: 'draining' } } : { status: 200, body: { status: 'ready' } });
}
