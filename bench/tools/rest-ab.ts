/**
 * REST CPU per request, A/B: the hub of this checkout, the hub of another checkout (`--base`, e.g.
 * `git worktree add /tmp/base main` with node_modules linked) and raw uWS, interleaved `--rounds`
 * times; each runs `--seconds` of load after a warm-up, and reads the server's CPU from /proc
 * around exactly that run. CPU per request holds up on a busy machine far better than the
 * requests/s of the time-boxed `npm run bench -- --scenarios=rest`; autocannon runs in this
 * process, on the same cores, so req/s here is the pair's.
 *
 *   node --import tsx bench/tools/rest-ab.ts --base=/tmp/base [--seconds=4] [--rounds=3]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const HERE = resolve(import.meta.dirname, '../..');
const BASE = arg('base', '');
const SECONDS = Number(arg('seconds', '4'));
const ROUNDS = Number(arg('rounds', '3'));
const BODY = JSON.stringify({ user: 'bench-user', room: 'bench', seq: 42, text: 'hello from the benchmark' });

const cpuSec = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / 100;
};

type Kind = 'base' | 'this' | 'uws';

/** `--pin=0`: the server on CPU 0 (taskset; run this process itself on the others, e.g. `taskset -c 1`). */
const PIN = arg('pin', '');
const pinned = (command: string[]): [string, string[]] =>
  PIN === '' ? [command[0] as string, command.slice(1)] : ['taskset', ['-c', PIN, ...command]];

async function start(kind: Kind): Promise<{ child: ChildProcess; url: string }> {
  if (kind === 'uws') {
    const child = spawn(...pinned([process.execPath, '--import', 'tsx', 'bench/servers/uws.ts']), { cwd: HERE, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const port = await new Promise<number>((ok) => child.on('message', (m: { port?: number }) => m.port !== undefined && ok(m.port)));
    return { child, url: `http://127.0.0.1:${port}/echo` };
  }
  const root = kind === 'base' ? BASE : HERE;
  const args = [join(root, 'bin/walker-hub.js'), '--port', '0', '--walkers', join(HERE, 'bench/walkers'), '--demo', 'false', '--log-level', 'error', '--announce', 'true', '--data-dir', mkdtempSync(join(tmpdir(), 'rest-ab-'))];
  const child = spawn(...pinned([process.execPath, ...args]), { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((ok) => child.stdout?.on('data', (d: Buffer) => { const m = /"port":(\d+)/.exec(d.toString()); if (m) ok(Number(m[1])); }));
  return { child, url: `http://127.0.0.1:${port}/walker/bench_echo` };
}

const fire = (url: string, duration: number) =>
  new Promise<autocannon.Result>((ok, fail) => {
    autocannon({ url, method: 'POST', body: BODY, headers: { 'content-type': 'application/json' }, connections: 50, duration }, (err, result) => (err ? fail(err) : ok(result)));
  });

const kinds: Kind[] = BASE === '' ? ['this', 'uws'] : ['base', 'this', 'uws'];
const rows = new Map<Kind, Array<{ us: number; rps: number }>>();
for (let r = 0; r < ROUNDS; r++) {
  for (const kind of kinds) {
    const { child, url } = await start(kind);
    await fire(url, 1);
    const c0 = cpuSec(child.pid as number);
    const res = await fire(url, SECONDS);
    const us = ((cpuSec(child.pid as number) - c0) * 1e6) / res.requests.total;
    const rps = res.requests.total / SECONDS;
    if (res.non2xx > 0 || res.errors > 0) throw new Error(`${kind}: ${res.non2xx} non-2xx, ${res.errors} errors`);
    rows.set(kind, [...(rows.get(kind) ?? []), { us, rps }]);
    process.stderr.write(`round ${r + 1} ${kind}: ${us.toFixed(1)} µs/request, ${Math.round(rps)} req/s\n`);
    child.kill('SIGKILL');
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const uws = rows.get('uws') ?? [];
process.stdout.write('| server | µs/request (median) | req/s (median) | vs raw uWS CPU | vs raw uWS req/s |\n|---|---:|---:|---:|---:|\n');
for (const [kind, list] of rows) {
  const us = median(list.map((x) => x.us));
  const rps = median(list.map((x) => x.rps));
  process.stdout.write(`| ${kind} | ${us.toFixed(1)} | ${Math.round(rps)} | ${(us / median(uws.map((x) => x.us))).toFixed(2)}× | ${(rps / median(uws.map((x) => x.rps))).toFixed(2)}× |\n`);
}
