/**
 * `npm run bench [-- --quick]`: Walker Hub against raw uWebSockets.js, ws and Socket.IO.
 *
 * Every server runs in its own child process on 127.0.0.1 (a fresh one per measured run), driven
 * by a pool of load processes. Progress goes to stdout as it happens; the tables at the end; every
 * figure to bench/results/latest.json. All children are killed on the way out, error or not.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { killAllNow, liveCount, repoRoot, stopAll } from './lib/children.js';
import { machineInfo, packageVersions } from './lib/machine.js';
import { serverLabels } from './lib/messages.js';
import { parseParams, type Params } from './lib/params.js';
import { renderReport } from './lib/report.js';
import { emptyResults, type Results } from './lib/results.js';
import { systemBusySeconds } from './lib/procstat.js';
import { evaluateTargets } from './lib/targets.js';
import { delay, LoadPool } from './scenarios/harness.js';
import { runAll } from './scenarios/plan.js';

const RESULTS_FILE = resolve(repoRoot, 'bench/results/latest.json');
const startedAt = Date.now();
const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s`;
const log = (line: string) => process.stdout.write(`[${elapsed()}] ${line}\n`);
function writeJson(params: Params, results: Results, interrupted: string | null, backgroundCores: number): void {
  const targets = evaluateTargets(results, params);
  const record = {
    generatedAt: new Date().toISOString(),
    durationSec: (Date.now() - startedAt) / 1000,
    interrupted,
    machine: machineInfo(),
    /** Cores' worth of CPU busy on the machine in the second before the run started (other jobs). */
    backgroundCores,
    packages: packageVersions(),
    params,
    results,
    targets,
  };
  mkdirSync(resolve(RESULTS_FILE, '..'), { recursive: true });
  // NaN (a failed run's figures) becomes null.
  writeFileSync(RESULTS_FILE, JSON.stringify(record, null, 2) + '\n');
}

async function main(): Promise<number> {
  const params = parseParams(process.argv.slice(2));
  const machine = machineInfo();
  log(`Walker Hub benchmark${params.quick ? ' (quick)' : ''}: ${machine.cpuModel}, ${machine.cores} cores, ${(machine.memoryBytes / 2 ** 30).toFixed(0)} GiB, Node ${machine.node}, ${machine.os}`);
  log(`servers: ${params.servers.map((k) => serverLabels[k]).join(', ')}; scenarios: ${params.scenarios.join(', ')}; ${params.loadProcs} load processes`);
  const busy0 = systemBusySeconds();
  await delay(1000);
  const backgroundCores = systemBusySeconds() - busy0;
  log(`background load before start: ${backgroundCores.toFixed(2)} of ${machine.cores} cores busy${backgroundCores > 0.2 ? ' — other jobs are running: rates will be lower and noisier' : ''}`);
  const results = emptyResults();
  let interrupted: string | null = null;
  // A signal stops every child; the run then unwinds, and what was measured is still printed and saved.
  const stopOn = (signal: NodeJS.Signals) => {
    interrupted = signal;
    log(`${signal}: stopping every child process`);
    void stopAll();
  };
  process.once('SIGINT', stopOn);
  process.once('SIGTERM', stopOn);
  try {
    const pool = await LoadPool.start(params.loadProcs, params.pin?.load ?? null);
    await runAll({ params, pool, log, elapsedSec: () => (Date.now() - startedAt) / 1000 }, results);
  } catch (err) {
    interrupted ??= err instanceof Error ? err.message : String(err);
    log(`aborted: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await stopAll();
  }
  const targets = evaluateTargets(results, params);
  process.stdout.write('\n' + renderReport(results, params, targets) + '\n\n');
  writeJson(params, results, interrupted, backgroundCores);
  log(`wrote ${RESULTS_FILE}; ${liveCount()} child processes left`);
  return interrupted === null ? 0 : 1;
}

process.on('exit', killAllNow);
main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    killAllNow();
    process.exitCode = 1;
  },
);
