/**
 * The autocannon child of the REST scenario: gets one job, checks one response by hand, runs a
 * warm-up, tells the orchestrator the measured run starts (so it can read the server's CPU), runs
 * it and reports.
 */
import autocannon from 'autocannon';
import type { RestJob, RestReport } from '../lib/messages.js';

function report(message: RestReport): void {
  process.send?.(message);
}

function cannon(job: RestJob, durationSec: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: job.url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: job.body,
        connections: job.connections,
        duration: durationSec,
        pipelining: 1,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

async function run(job: RestJob): Promise<void> {
  const first = await fetch(job.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: job.body });
  const sample = await first.text();
  if (first.status !== 200) throw new Error(`${job.url} answered ${first.status}: ${sample.slice(0, 200)}`);
  if (job.warmupSec > 0) await cannon(job, job.warmupSec);
  report({ type: 'measuring' });
  const cpu = process.cpuUsage();
  const result = await cannon(job, job.durationSec);
  const usage = process.cpuUsage(cpu);
  report({
    type: 'result',
    requestsPerSec: result.requests.total / result.duration,
    total: result.requests.total,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    durationSec: result.duration,
    cpu: { user: usage.user, system: usage.system },
    sample,
  });
}

process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.once('message', (raw) => {
  run(raw as RestJob).catch((err: unknown) => report({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
});
report({ type: 'hello' });
