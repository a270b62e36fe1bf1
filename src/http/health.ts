/** `GET /healthz`: liveness, with the counts an operator looks at first. */
import type { BrokerHealth } from '../broker/broker.js';
import type { RegistryCounts } from '../hub/registry.js';

export interface HealthSources {
  /** Walkers served now (`--watch` changes it). */
  walkers(): number;
  readonly store: string;
  /** With `--workers`, which worker answers: its index (and its process id) go in the answer. */
  readonly worker?: number | undefined;
  counts(): RegistryCounts;
  /** Absent in tests that wire a hub by hand. */
  broker?: () => BrokerHealth;
}

export function createHealth(sources: HealthSources): () => Record<string, unknown> {
  const startedAt = Date.now();
  return () => {
    const broker = sources.broker?.();
    // `degraded`: the broker is down, so only local sockets get notifications; still 200, since the
    // node itself serves (a load balancer should not drain every node during a Redis outage).
    const status = broker?.state === 'down' ? 'degraded' : 'ok';
    return { status, ...(sources.worker !== undefined ? { worker: sources.worker, pid: process.pid } : {}), uptime_s: Math.round((Date.now() - startedAt) / 1000), walkers: sources.walkers(), store: sources.store, ...sources.counts(), ...(broker ? { broker } : {}) };
  };
}

/** `GET /readyz`: readiness for a load balancer: 200 while taking traffic, 503 once draining. `/healthz` stays liveness. */
export function createReadiness(isDraining: () => boolean): () => { status: number; body: Record<string, unknown> } {
  return () => (isDraining() ? { status: 503, body: { status: 'draining' } } : { status: 200, body: { status: 'ready' } });
}
