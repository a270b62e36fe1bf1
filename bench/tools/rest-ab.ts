/**
 * REST CPU per request, A/B: the hub of this checkout, the hub of another checkout (`--base`, e.g.
 * `git worktree add /tmp/base main` with node_modules linked) and raw uWS, interleaved `--rounds`
 * times; each runs `--seconds` of load after a warm-up, and reads the server's CPU from /proc
 * around exactly that run. CPU per request holds up on a busy machine far better than the
 * requests/s of the time-boxed `npm run bench -- --scenarios=rest`; autocannon runs in this
 * process, on the same cores, so req/s here is the pair's.
 *
 * `--tls`: both over https — the hub with `--tls-cert/--tls-key`, raw uWS as an SSLApp — with one
 * self-signed P-256 certificate made by `openssl` in a temporary folder (autocannon does not check it).
 *
 *   node --import tsx bench/tools/rest-ab.ts --base=/tmp/base [--seconds=4] [--rounds=3] [--pin=0] [--tls]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { arg } from '../lib/arg.js';

const HERE = resolve(import.meta.dirname, '../..');
const BASE = arg('base', '');
const SECONDS = Number(arg('seconds', '4'));
const ROUNDS = Number(arg('rounds', '3'));
const TLS = process.argv.includes('--tls');
const BODY = JSON.stringify({ user: 'bench-user', room: 'bench', seq: 42, text: 'hello from the benchmark' });

const cpuSec = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / 100;
};

type Kind = 'base' | 'this' | 'uws';

/** The certificate and key for `--tls`, removed on exit. */
const cert = TLS ? selfSigned() : null;
const scheme = cert === null ? 'http' : 'https';

function selfSigned(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rest-ab-tls-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-keyout', files.key, '-out', files.cert, '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return files;
}

/** `--pin=0`: the server on CPU 0 (taskset; run this process itself on the others, e.g. `taskset -c 1`). */
const PIN = arg('pin', '');
const pinned = (command: string[]): [string, string[]] =>
  PIN === '' ? [command[0] as string, command.slice(1)] : ['taskset', ['-c', PIN, ...command]];

async function start(kind: Kind): Promise<{ child: ChildProcess; url: string }> {
  if (kind === 'uws') {
    const child = spawn(...pinned([process.execPath, '--import', 'tsx', 'bench/servers/uws.ts', ...(cert ? [`--tls-cert=${cert.cert}`, `--tls-key=${cert.key}`] : [])]), { cwd: HERE, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const port = await new Promise<number>((ok) => child.on('message', (m: { port?: number }) => m.port !== undefined && ok(m.port)));
    return { child, url: `${scheme}://127.0.0.1:${port}/echo` };
  }
  const root = kind === 'base' ? BASE : HERE;
  const args = [join(root, 'bin/walker-hub.js'), '--port', '0', '--walkers', join(HERE, 'bench/walkers'), '--demo', 'false', '--log-level', 'error', '--announce', 'true', '--data-dir', mkdtempSync(join(tmpdir(), 'rest-ab-')), ...(cert ? ['--tls-cert', cert.cert, '--tls-key', cert.key] : [])];
  const child = spawn(...pinned([process.execPath, ...args]), { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((ok) => child.stdout?.on('data', (d: Buffer) => { const m = /"port":(\d+)/.exec(d.toString()); if (m) ok(Number(m[1])); }));
  return { child, url: `${scheme}://127.0.0.1:${port}/walker/bench_echo` };
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
process.stdout.write(`${cert ? 'TLS on (https)' : 'TLS off'}, ${ROUNDS} rounds of ${SECONDS} s${PIN === '' ? '' : `, server pinned to CPU ${PIN}`}\n\n`);
process.stdout.write('| server | µs/request (median) | req/s (median) | vs raw uWS CPU | vs raw uWS req/s |\n|---|---:|---:|---:|---:|\n');
for (const [kind, list] of rows) {
  const us = median(list.map((x) => x.us));
  const rps = median(list.map((x) => x.rps));
  process.stdout.write(`| ${kind} | ${us.toFixed(1)} | ${Math.round(rps)} | ${(us / median(uws.map((x) => x.us))).toFixed(2)}× | ${(rps / median(uws.map((x) => x.rps))).toFixed(2)}× |\n`);
}
