/**
 * The container files, checked without a container engine: the Dockerfile, docker-compose.yml and
 * deploy/nginx.conf are parsed and their essentials asserted against the hub itself (its config
 * schema, its idle timeout, its trusted-proxy parsing).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { configEnvNames, loadConfig } from '../../src/config.js';
import { parseIpRange } from '../../src/ip-address.js';

const root = resolve(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** Dockerfile instructions in order: comments dropped, `\` continuations joined. */
function dockerfile(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const m = /^(\S+)\s+(.*)$/.exec(line);
      if (!m) throw new Error(`not an instruction: ${line}`);
      return { op: (m[1] as string).toUpperCase(), args: (m[2] as string).trim() };
    });
}

/** `ENV A=1 B=2` (or `ENV A 1`) as pairs. */
function envPairs(args: string): Array<[string, string]> {
  if (!args.includes('=')) {
    const [name, ...rest] = args.split(/\s+/);
    return [[name as string, rest.join(' ')]];
  }
  return [...args.matchAll(/(\w+)=("[^"]*"|\S*)/g)].map((m) => [m[1] as string, (m[2] as string).replace(/^"|"$/g, '')]);
}

/** Compose's `${VAR:?message}` / `${VAR:-default}` as the values a deployer would pass. */
function interpolate(value: string): string {
  return value.replace(/\$\{(\w+)(?::([?-])([^}]*))?\}/g, (_all, name: string, kind?: string, rest?: string) => {
    if (kind === '-') return rest ?? '';
    return name === 'WALKER_HUB_JWT_SECRET' ? 'x'.repeat(48) : 'set-by-the-deployer';
  });
}

/** Seconds of an nginx time like `150s`, `2m` or `150`. */
function nginxSeconds(value: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(value);
  if (!m) throw new Error(`not an nginx time: ${value}`);
  const n = Number(m[1]);
  return { ms: n / 1000, s: n, m: n * 60, h: n * 3600 }[m[2] ?? 's'] as number;
}

/** The directives of the `location <path> { ... }` block (no nested blocks in it). */
function location(conf: string, path: string): Map<string, string[]> {
  const m = new RegExp(`location\\s+${path.replace('/', '\\/')}\\s*\\{([^}]*)\\}`).exec(conf);
  if (!m) throw new Error(`no location ${path}`);
  const directives = new Map<string, string[]>();
  for (const raw of (m[1] as string).split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const d = /^(\S+)\s+(.*);$/.exec(line);
    if (!d) throw new Error(`not a directive: ${line}`);
    const list = directives.get(d[1] as string) ?? [];
    list.push(d[2] as string);
    directives.set(d[1] as string, list);
  }
  return directives;
}

describe('Dockerfile', () => {
  const steps = dockerfile(read('Dockerfile'));
  const froms = steps.filter((s) => s.op === 'FROM');
  const finalStage = steps.slice(steps.lastIndexOf(froms.at(-1) as Instruction));
  const env = new Map(finalStage.filter((s) => s.op === 'ENV').flatMap((s) => envPairs(s.args)));

  it('is multi-stage, every stage on a pinned Node 20 image, the last copying from the build', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from.args).toMatch(/^node:20\.\d+(\.\d+)?-[a-z-]+\s+AS\s+\w+$/i);
    expect(finalStage.some((s) => s.op === 'COPY' && s.args.startsWith('--from=build'))).toBe(true);
  });

  it('runs as a non-root user, exposes the port the hub listens on, on every interface', () => {
    const users = finalStage.filter((s) => s.op === 'USER').map((s) => s.args);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    const config = loadConfig([], Object.fromEntries(env));
    expect(finalStage.filter((s) => s.op === 'EXPOSE').map((s) => s.args)).toEqual([String(config.port)]);
    expect(config.host).toBe('0.0.0.0');
  });

  it('checks health on /readyz, stops with SIGTERM, starts the command in exec form', () => {
    const health = finalStage.filter((s) => s.op === 'HEALTHCHECK');
    expect(health).toHaveLength(1);
    expect(health[0]?.args).toMatch(/--interval=\d+s/);
    expect(health[0]?.args).toContain('/readyz');
    expect(finalStage.filter((s) => s.op === 'STOPSIGNAL').map((s) => s.args)).toEqual(['SIGTERM']);
    const cmd = finalStage.filter((s) => s.op === 'CMD').at(-1);
    expect(JSON.parse(cmd?.args ?? 'null')).toEqual(['node', 'bin/walker-hub.js']);
  });

  it('sets only environment variables the config schema reads', () => {
    const unknown = [...env.keys()].filter((name) => name !== 'NODE_ENV' && !configEnvNames.has(name));
    expect(unknown).toEqual([]);
  });
});

describe('docker-compose.yml', () => {
  const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, { image?: string; build?: string; environment?: Record<string, string>; networks?: unknown; volumes?: string[]; ports?: string[] }>;
  };
  const services = compose.services;
  const hubs = Object.entries(services).filter(([, s]) => s.build !== undefined);

  it('runs three hub nodes, Redis, MongoDB and nginx', () => {
    expect(hubs.map(([name]) => name).sort()).toEqual(['hub1', 'hub2', 'hub3']);
    expect(services['redis']?.image).toMatch(/^redis:\d/);
    expect(services['nginx']?.image).toMatch(/^nginx:\d/);
    expect(services['nginx']?.volumes).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro');
  });

  it("gives every hub only variables the config schema reads, and a configuration the hub accepts", () => {
    for (const [, hub] of hubs) {
      const env = Object.fromEntries(Object.entries(hub.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));
      expect(Object.keys(env).filter((name) => !configEnvNames.has(name))).toEqual([]);
      const config = loadConfig([], env);
      expect(config.redisUrl).toBe('redis://redis:6379');
      expect(config.mongodbUrl).toBeDefined();
      expect(config.jwtSecret).toBeDefined();
    }
  });

  it('trusts exactly the address nginx has for X-Forwarded-For', () => {
    const nginxNet = services['nginx']?.networks as Record<string, { ipv4_address: string }>;
    const nginxAddress = Object.values(nginxNet)[0]?.ipv4_address as string;
    for (const [, hub] of hubs) {
      const config = loadConfig([], { WALKER_HUB_TRUSTED_PROXIES: String(hub.environment?.['WALKER_HUB_TRUSTED_PROXIES']) });
      expect(config.trustedProxies).toEqual([parseIpRange(nginxAddress)]);
      expect(config.forwardedHeader).toBe('x-forwarded-for');
    }
  });
});

describe('deploy/nginx.conf', () => {
  const conf = read('deploy/nginx.conf');
  const ws = location(conf, '/websocket');
  const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { environment?: Record<string, string> }> };
  const hubEnv = compose.services['hub1']?.environment ?? {};
  const idleSec = loadConfig([], { WALKER_HUB_IDLE_TIMEOUT: String(hubEnv['WALKER_HUB_IDLE_TIMEOUT']) }).idleTimeoutSec;

  it('passes the WebSocket upgrade through on HTTP/1.1', () => {
    expect(ws.get('proxy_http_version')).toEqual(['1.1']);
    expect(ws.get('proxy_set_header')).toEqual(expect.arrayContaining(['Upgrade $http_upgrade', 'Connection $connection_upgrade']));
    expect(conf).toMatch(/map\s+\$http_upgrade\s+\$connection_upgrade\s*\{[^}]*default\s+upgrade;/);
  });

  it('names the client in X-Forwarded-For', () => {
    expect((ws.get('proxy_set_header') ?? []).some((h) => /^X-Forwarded-For \$(remote_addr|proxy_add_x_forwarded_for)$/.test(h))).toBe(true);
  });

  it("waits longer than the hub's idle timeout before giving up on a silent socket", () => {
    expect(idleSec).toBeGreaterThan(0);
    for (const key of ['proxy_read_timeout', 'proxy_send_timeout']) {
      const [value] = ws.get(key) ?? [];
      expect(nginxSeconds(value as string)).toBeGreaterThan(idleSec);
    }
  });

  it('sends to every hub node of the compose file', () => {
    const upstream = /upstream\s+hubs\s*\{([^}]*)\}/.exec(conf)?.[1] ?? '';
    const servers = [...upstream.matchAll(/server\s+([\w.-]+):(\d+);/g)].map((m) => `${m[1]}:${m[2]}`);
    expect(servers.sort()).toEqual(['hub1:8000', 'hub2:8000', 'hub3:8000']);
    for (const l of [ws]) expect(l.get('proxy_pass')).toEqual(['http://hubs']);
  });
});
