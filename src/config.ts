/**
 * The one config schema. Parsed once at start-up from flags and environment (flags win), frozen,
 * and every problem is reported at once. Each part of the hub receives only its own slice.
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { parseIpRange, type IpRange } from './ip-address.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

/**
 * key -> flag, env var, schema, help (the meaning, shown by `--help` and in docs/configuration.md,
 * which `npm run docs:config` generates from this table and `docNotes` below).
 */
const fields = {
  host: { flag: 'host', env: 'WALKER_HUB_HOST', schema: z.string().min(1).default('127.0.0.1'), help: 'interface to listen on' },
  port: { flag: 'port', env: 'WALKER_HUB_PORT', schema: int(0, 65535).default(8000), help: 'TCP port (0 picks a free one)' },
  walkersDir: { flag: 'walkers', env: 'WALKER_HUB_WALKERS', schema: z.string().min(1).default('walkers'), help: 'folder of walker modules' },
  collectionsDir: {
    flag: 'collections',
    env: 'WALKER_HUB_COLLECTIONS',
    schema: optionalString,
    help: 'folder of collection modules: live data with CRUD and change subscriptions, the Directus way',
  },
  jwtSecret: {
    flag: 'jwt-secret',
    env: 'WALKER_HUB_JWT_SECRET',
    schema: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
    help: 'HS256 secret of the hub\'s tokens and of trusted backends\' tokens, at least 32 characters (the random one does not survive a restart)',
  },
  jwksUrl: { flag: 'jwks-url', env: 'WALKER_HUB_JWKS_URL', schema: optionalString.pipe(z.url().optional()), help: 'JWKS URL of an external identity provider; needs --jwt-issuer and --jwt-audience' },
  jwtIssuer: { flag: 'jwt-issuer', env: 'WALKER_HUB_JWT_ISSUER', schema: optionalString, help: 'required `iss` of identity-provider (JWKS) tokens' },
  jwtAudience: { flag: 'jwt-audience', env: 'WALKER_HUB_JWT_AUDIENCE', schema: optionalString, help: 'required `aud` of identity-provider (JWKS) tokens; also put in the hub\'s own tokens' },
  jwtTrustClaims: {
    flag: 'jwt-trust-claims',
    env: 'WALKER_HUB_JWT_TRUST_CLAIMS',
    schema: z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').default(false),
    help: 'take root_id and email from identity-provider (JWKS) tokens; off: root derived from iss + sub',
  },
  dataDir: { flag: 'data-dir', env: 'WALKER_HUB_DATA_DIR', schema: z.string().min(1).default('data'), help: 'folder of the embedded store (used when no MongoDB URL is set)' },
  mongodbUrl: {
    flag: 'mongodb-url',
    env: 'MONGODB_URL',
    schema: optionalString.pipe(z.string().regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://').optional()),
    help: 'use MongoDB instead of the embedded store',
  },
  storeTimeoutMs: {
    flag: 'store-timeout',
    env: 'WALKER_HUB_STORE_TIMEOUT',
    schema: int(100, 600_000).default(5000),
    help: 'longest wait for one store operation, ms; past it the call fails with store_unavailable (503), though a MongoDB write may still happen later',
  },
  tokenTtlSec: { flag: 'token-ttl', env: 'WALKER_HUB_TOKEN_TTL', schema: int(60, 366 * 24 * 3600).default(12 * 3600), help: 'lifetime of issued tokens, seconds' },
  passwordHashCost: { flag: 'scrypt-cost', env: 'WALKER_HUB_SCRYPT_COST', schema: int(10, 20).default(15), help: 'scrypt cost for passwords, log2(N)' },
  revocationSyncMs: {
    flag: 'revocation-sync',
    env: 'WALKER_HUB_REVOCATION_SYNC',
    schema: int(0, 600_000).default(2000),
    help: 'how often revocations made by other nodes are read from the store, ms (0 = never)',
  },
  peerEvents: {
    flag: 'peer-events',
    env: 'WALKER_HUB_PEER_EVENTS',
    schema: z.enum(['authenticated', 'public', 'off']).optional(),
    help: 'who may send client/channel/user frames: authenticated, public or off',
  },
  maxPayloadBytes: { flag: 'max-payload', env: 'WALKER_HUB_MAX_PAYLOAD', schema: int(1024, 16 * 1024 * 1024).optional(), help: 'largest WebSocket frame, bytes' },
  maxBodyBytes: { flag: 'max-body', env: 'WALKER_HUB_MAX_BODY', schema: int(1024, 64 * 1024 * 1024).default(1024 * 1024), help: 'largest REST body, bytes' },
  maxBackpressureBytes: {
    flag: 'max-backpressure',
    env: 'WALKER_HUB_MAX_BACKPRESSURE',
    schema: int(16 * 1024, 256 * 1024 * 1024).default(1024 * 1024),
    help: 'unsent bytes a slow reader may hold before it is cut off',
  },
  idleTimeoutSec: {
    flag: 'idle-timeout',
    env: 'WALKER_HUB_IDLE_TIMEOUT',
    schema: int(0, 960).refine((s) => s === 0 || s >= 8, 'must be 0 or between 8 and 960').default(120),
    help: 'close silent sockets after, seconds (0 = never, else at least 8; the hub pings, so only dead sockets go silent)',
  },
  walkerTimeoutMs: { flag: 'walker-timeout', env: 'WALKER_HUB_WALKER_TIMEOUT', schema: int(1, 3_600_000).optional(), help: 'longest a walker may run, ms (jac-cloud profile: the maximum, one hour, stands in for none)' },
  maxInflightWalkers: { flag: 'max-inflight', env: 'WALKER_HUB_MAX_INFLIGHT', schema: int(1, 10_000).default(64), help: 'walkers running at once per connection' },
  maxInflightBytes: {
    flag: 'max-inflight-bytes',
    env: 'WALKER_HUB_MAX_INFLIGHT_BYTES',
    schema: int(1024, 1024 * 1024 * 1024).default(1024 * 1024),
    help: 'characters of walker frames whose walkers are still running, per connection (one call always runs; more: 429 too_many_requests)',
  },
  replyQueueLength: {
    flag: 'reply-queue-length',
    env: 'WALKER_HUB_REPLY_QUEUE_LENGTH',
    schema: int(1, 1_000_000).default(1024),
    help: 'replies to walker frames without uid waiting in line, per connection (over it: close 4008)',
  },
  replyQueueBytes: {
    flag: 'reply-queue-bytes',
    env: 'WALKER_HUB_REPLY_QUEUE_BYTES',
    schema: int(1024, 1024 * 1024 * 1024).default(1024 * 1024),
    help: 'characters of ready replies waiting behind a slower one, per connection (over it: close 4008)',
  },
  authRatePerIp: {
    flag: 'auth-rate-ip',
    env: 'WALKER_HUB_AUTH_RATE_IP',
    schema: int(0, 1_000_000).default(30),
    help: 'login/register attempts per client IP per auth-rate-window (0 = off)',
  },
  authRatePerAccount: {
    flag: 'auth-rate-account',
    env: 'WALKER_HUB_AUTH_RATE_ACCOUNT',
    schema: int(0, 1_000_000).default(10),
    help: 'login/register attempts per email per auth-rate-window (0 = off; a successful login resets it)',
  },
  authRateWindowSec: { flag: 'auth-rate-window', env: 'WALKER_HUB_AUTH_RATE_WINDOW', schema: int(1, 86_400).default(60), help: 'window of the auth rate limits, seconds' },
  frameRate: { flag: 'frame-rate', env: 'WALKER_HUB_FRAME_RATE', schema: int(0, 1_000_000).default(100), help: 'sustained frames per second per connection (0 = off)' },
  frameBurst: { flag: 'frame-burst', env: 'WALKER_HUB_FRAME_BURST', schema: int(1, 1_000_000).default(500), help: 'frames a connection may send at once above frame-rate' },
  maxConnections: {
    flag: 'max-connections',
    env: 'WALKER_HUB_MAX_CONNECTIONS',
    schema: z.preprocess((v) => (v === '' ? undefined : v), int(0, 10_000_000).optional()),
    help: 'WebSocket connections at once (0 = no cap)',
  },
  maxConnectionsPerIp: {
    flag: 'max-connections-per-ip',
    env: 'WALKER_HUB_MAX_CONNECTIONS_PER_IP',
    schema: int(0, 10_000_000).default(1000),
    help: 'WebSocket connections at once from one IP (0 = no cap)',
  },
  trustedProxies: {
    flag: 'trusted-proxies',
    env: 'WALKER_HUB_TRUSTED_PROXIES',
    schema: z
      .string()
      .default('')
      .transform((v, ctx) => {
        const ranges: IpRange[] = [];
        for (const entry of v.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
          const r = parseIpRange(entry);
          if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
          else ranges.push(r);
        }
        return ranges;
      }),
    help: 'comma-separated addresses and CIDR ranges of proxies whose X-Forwarded-For / Forwarded / PROXY v2 address is believed (empty = none)',
  },
  forwardedHeader: {
    flag: 'forwarded-header',
    env: 'WALKER_HUB_FORWARDED_HEADER',
    schema: z.enum(['x-forwarded-for', 'forwarded']).default('x-forwarded-for'),
    help: 'the header trusted proxies write the client address to (the other one is ignored, so a client cannot spoof it)',
  },
  fdGuard: {
    flag: 'fd-guard',
    env: 'WALKER_HUB_FD_GUARD',
    schema: z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').default(true),
    help: 'stop accepting while fewer than 32 file descriptors are free, resume at 96 (false = off)',
  },
  allowedOrigins: {
    flag: 'allowed-origins',
    env: 'WALKER_HUB_ALLOWED_ORIGINS',
    schema: z
      .string()
      .default('')
      .transform((v) => v.split(',').map((o) => o.trim()).filter((o) => o !== '')),
    help: 'comma-separated Origins allowed to upgrade (empty = any; requests without Origin are allowed)',
  },
  tlsCert: { flag: 'tls-cert', env: 'WALKER_HUB_TLS_CERT', schema: optionalString, help: 'PEM certificate (chain) file: serve https:// and wss:// on the port (with --tls-key)' },
  tlsKey: { flag: 'tls-key', env: 'WALKER_HUB_TLS_KEY', schema: optionalString, help: 'PEM private key file of --tls-cert; checked at start (missing, unreadable, not a key, not the certificate\'s: exit 2 with the reason)' },
  tlsPassphrase: { flag: 'tls-passphrase', env: 'WALKER_HUB_TLS_PASSPHRASE', schema: optionalString, help: 'passphrase of an encrypted --tls-key (prefer the environment: flags show in ps)' },
  tlsCa: { flag: 'tls-ca', env: 'WALKER_HUB_TLS_CA', schema: optionalString, help: 'PEM file of intermediate certificates sent after --tls-cert (or put the full chain in --tls-cert)' },
  compression: {
    flag: 'compression',
    env: 'WALKER_HUB_COMPRESSION',
    schema: z.enum(['off', 'shared', 'dedicated']).default('off'),
    help: 'permessage-deflate for clients that offer it: off, shared (no per-socket memory) or dedicated (32 KiB window per socket)',
  },
  workers: {
    flag: 'workers',
    env: 'WALKER_HUB_WORKERS',
    schema: z
      .union([z.literal('auto').transform(() => availableParallelism()), int(1, 1024)])
      .default(1),
    help: 'hub processes listening on the same port (SO_REUSEPORT), auto = one per core; more than 1 needs Redis (REDIS_URL or REDIS_CLUSTER_NODES)',
  },
  workerId: {
    flag: 'worker-id',
    env: 'WALKER_HUB_WORKER_ID',
    schema: z.preprocess((v) => (v === '' ? undefined : v), int(0, 1023).optional()),
    help: 'set by the --workers supervisor on each worker it starts (named in /healthz, /metrics and log lines); leave unset',
  },
  logLevel: { flag: 'log-level', env: 'WALKER_HUB_LOG_LEVEL', schema: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'), help: 'log verbosity' },
  announce: {
    flag: 'announce',
    env: 'WALKER_HUB_ANNOUNCE',
    schema: z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').default(false),
    help: 'print {"listening","port"} as JSON on stdout once listening (for scripts)',
  },
  logLimit: {
    flag: 'log-limit',
    env: 'WALKER_HUB_LOG_LIMIT',
    schema: int(0, 1_000_000).default(20),
    help: 'lines per message and 10 s that client-triggered warnings/errors may write, then one summary (0 = no limit)',
  },
  apiKeys: {
    flag: 'api-key',
    env: 'WALKER_HUB_API_KEY',
    schema: z
      .string()
      .default('')
      .transform((v) => v.split(',').map((k) => k.trim()).filter((k) => k !== ''))
      .pipe(z.array(z.string().min(16, 'each key must be at least 16 characters'))),
    help: 'server API keys for POST /api/notify, comma-separated (several for rotation), each at least 16 characters; none = the push routes answer 404. Prefer the environment: flags show in ps',
  },
  drainTimeoutMs: {
    flag: 'drain-timeout',
    env: 'WALKER_HUB_DRAIN_TIMEOUT',
    schema: int(0, 3_600_000).default(10_000),
    help: 'on SIGTERM/SIGINT, longest wait for in-flight requests and walkers before closing, ms; closing after it takes at most 1 s more',
  },
  metricsPort: {
    flag: 'metrics-port',
    env: 'WALKER_HUB_METRICS_PORT',
    schema: z.preprocess((v) => (v === '' ? undefined : v), int(0, 65535).optional()),
    help: 'serve GET /metrics on this port (same host) instead of the main one (0 picks a free one)',
  },
  logFormat: {
    flag: 'log-format',
    env: 'WALKER_HUB_LOG_FORMAT',
    schema: z.enum(['auto', 'text', 'json']).default('auto'),
    help: 'log line format: json, text, or auto (text on a terminal, else json)',
  },
  redisUrl: {
    flag: 'redis-url',
    env: 'REDIS_URL',
    schema: optionalString.pipe(z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional()),
    help: 'carry notifications between nodes over this Redis (redis:// or rediss://, pub/sub)',
  },
  redisClusterNodes: {
    flag: 'redis-cluster-nodes',
    env: 'REDIS_CLUSTER_NODES',
    schema: optionalString.pipe(z.string().regex(/^(\[[^\]]+\]|[^\s,:]+):\d{1,5}(,(\[[^\]]+\]|[^\s,:]+):\d{1,5})*$/, 'must be host:port,host:port,...').optional()),
    help: 'carry notifications between nodes over this Redis Cluster instead: host:port,host:port,... (sharded pub/sub, Redis 7+); not together with REDIS_URL',
  },
  redisPrefix: {
    flag: 'redis-prefix',
    env: 'WALKER_HUB_REDIS_PREFIX',
    schema: z.string().regex(/^[\w:.-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ : . -').default('wh:'),
    help: 'prefix of every Redis topic (deployments sharing one Redis use different ones)',
  },
  brokerConfirmTimeoutMs: {
    flag: 'broker-confirm-timeout',
    env: 'WALKER_HUB_BROKER_CONFIRM_TIMEOUT',
    schema: int(100, 60_000).default(2500),
    help: 'longest a `subscribed` / `connection` reply waits for Redis to confirm the subscriptions it needs, ms',
  },
  protocol: {
    flag: 'protocol',
    env: 'WALKER_HUB_PROTOCOL',
    schema: z.enum(['native', 'jac-cloud']).default('native'),
    help: 'wire profile: native (typed frames, strict auth) or jac-cloud (drop-in for jac-cloud clients); it sets the defaults marked jac-cloud profile, which a value you set still overrides',
  },
  channelsFile: {
    flag: 'channels',
    env: 'WALKER_HUB_CHANNELS',
    schema: optionalString,
    help: 'JSON file of channel namespaces (permissions, subscribe walkers, presence, join/leave, history), checked at start; unset: every channel open, as in jac-cloud',
  },
  presenceTtlSec: {
    flag: 'presence-ttl',
    env: 'WALKER_HUB_PRESENCE_TTL',
    schema: int(3, 3600).default(60),
    help: 'with Redis: seconds after which the presence entries of a node that stopped refreshing them (it died) vanish',
  },
  watch: {
    flag: 'watch',
    env: 'WALKER_HUB_WATCH',
    schema: z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').default(false),
    bare: 'true',
    help: 'reload walkers when their files change, without a restart (npm run dev turns it on; `--watch` alone means true)',
  },
  demo: {
    flag: 'demo',
    env: 'WALKER_HUB_DEMO',
    schema: z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').default(true),
    help: 'serve the demo page at / (false = off: / is a 404 like any unknown route)',
  },
} satisfies Record<string, { flag: string; env: string; schema: z.ZodType; help: string; bare?: string }>;

/**
 * For docs/configuration.md (and `--help`): `shownDefault` where the schema's default does not say
 * it (computed at start, or none), `see` a docs page with more about the option.
 */
const docNotes: { readonly [K in keyof typeof fields]?: { readonly shownDefault?: string; readonly see?: string } } = {
  jwtSecret: { shownDefault: 'random per start', see: 'auth.md' },
  jwksUrl: { see: 'auth.md' },
  storeTimeoutMs: { see: 'operations.md' },
  maxConnections: { shownDefault: 'open-file limit − open at start − 128 (10000 if unreadable)', see: 'operations.md' },
  trustedProxies: { shownDefault: 'none', see: 'operations.md' },
  allowedOrigins: { shownDefault: 'any' },
  tlsCert: { shownDefault: 'plain HTTP', see: 'deployment.md' },
  apiKeys: { shownDefault: 'none (push API off)', see: 'rest-and-push.md' },
  drainTimeoutMs: { see: 'operations.md' },
  metricsPort: { shownDefault: 'the main port' },
  redisUrl: { see: 'cluster.md' },
  redisClusterNodes: { see: 'cluster.md' },
  protocol: { see: 'jac-cloud.md' },
  channelsFile: { see: 'channels.md' },
  collectionsDir: { shownDefault: './collections when it exists, else none', see: 'collections.md' },
};

type Fields = typeof fields;

/** Every environment variable the hub reads (deployment files are checked against it). */
export const configEnvNames: ReadonlySet<string> = new Set(Object.values(fields).map((f) => f.env));
export type WireProtocol = 'native' | 'jac-cloud';

/**
 * Defaults that depend on the wire profile. These fields have no default in `fields` (so "unset"
 * is visible after parsing); a value the operator set, by flag or env, always wins.
 */
export const protocolDefaults = {
  native: { peerEvents: 'authenticated', maxPayloadBytes: 64 * 1024, walkerTimeoutMs: 30_000 },
  // jac-cloud: 16 MiB frames and no walker timeout (the schema's maximum, one hour, stands in for none).
  'jac-cloud': { peerEvents: 'public', maxPayloadBytes: 16 * 1024 * 1024, walkerTimeoutMs: 3_600_000 },
} as const satisfies Record<WireProtocol, Record<string, unknown>>;
type ProfiledKey = keyof (typeof protocolDefaults)['native'];

const configSchema = z
  .object(Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f.schema])) as { [K in keyof Fields]: Fields[K]['schema'] })
  .transform((v) => {
    const d = protocolDefaults[v.protocol];
    return {
      ...v,
      peerEvents: v.peerEvents ?? d.peerEvents,
      maxPayloadBytes: v.maxPayloadBytes ?? d.maxPayloadBytes,
      walkerTimeoutMs: v.walkerTimeoutMs ?? d.walkerTimeoutMs,
    } satisfies Record<ProfiledKey, unknown>;
  });
export type Config = Readonly<z.output<typeof configSchema>>;
export type ConfigInput = z.input<typeof configSchema>;

/**
 * Rules that span fields. Each reads only fields that parsed, so it runs (and reports) alongside
 * every per-field problem.
 */
const crossFieldChecks: Array<(v: Partial<Record<keyof Fields, unknown>>) => string | null> = [
  (v) =>
    v.jwksUrl !== undefined && (v.jwtIssuer === undefined || v.jwtAudience === undefined)
      ? 'jwksUrl (--jwks-url / WALKER_HUB_JWKS_URL): needs both --jwt-issuer and --jwt-audience, or a token the identity provider minted for any other app would get in'
      : null,
  (v) =>
    v.redisUrl !== undefined && v.redisClusterNodes !== undefined
      ? 'redisUrl (--redis-url / REDIS_URL) and redisClusterNodes (--redis-cluster-nodes / REDIS_CLUSTER_NODES): set one, not both'
      : null,
  (v) =>
    typeof v.workers === 'number' && v.workers > 1 && v.redisUrl === undefined && v.redisClusterNodes === undefined
      ? `workers (--workers / WALKER_HUB_WORKERS): ${v.workers} workers need Redis (--redis-url / REDIS_URL or --redis-cluster-nodes / REDIS_CLUSTER_NODES), which carries each notification to the worker holding the socket; without it, run --workers 1`
      : null,
  (v) =>
    (v.tlsCert === undefined) !== (v.tlsKey === undefined)
      ? 'tlsCert (--tls-cert / WALKER_HUB_TLS_CERT) and tlsKey (--tls-key / WALKER_HUB_TLS_KEY): set both, or neither'
      : null,
  (v) =>
    v.tlsCert === undefined && (v.tlsPassphrase !== undefined || v.tlsCa !== undefined)
      ? 'tlsPassphrase (--tls-passphrase) and tlsCa (--tls-ca) need --tls-cert and --tls-key'
      : null,
];

function crossFieldProblems(raw: Record<string, unknown>): string[] {
  const parsed: Partial<Record<keyof Fields, unknown>> = {};
  for (const [key, f] of Object.entries(fields) as Array<[keyof Fields, Fields[keyof Fields]]>) {
    const r = f.schema.safeParse(raw[key]);
    if (r.success) parsed[key] = r.data;
  }
  return crossFieldChecks.map((check) => check(parsed)).filter((p): p is string => p !== null);
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses flags (`--port 9000`, `--port=9000`, a bare `--watch`) and env vars; flags win. Throws ConfigError listing every problem. */
export function loadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Config {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, f] of Object.entries(fields)) {
    const value = env[f.env];
    if (value !== undefined) raw[key] = value;
  }
  const byFlag = new Map(Object.entries(fields).map(([key, f]) => [f.flag, key]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const key = m ? byFlag.get(m[1] as string) : undefined;
    if (!m || !key) {
      problems.push(`unknown argument "${arg}" (see --help)`);
      continue;
    }
    // A flag with a `bare` value may stand alone (`--watch`): when no value follows it, or the next argument is a flag.
    const bare = (fields[key as keyof Fields] as { bare?: string }).bare;
    const next = argv[i + 1];
    const value = m[2] ?? (bare !== undefined && (next === undefined || next.startsWith('--')) ? bare : argv[++i]);
    if (value === undefined) problems.push(`--${m[1]} needs a value`);
    else raw[key] = value;
  }
  return parseConfig(raw, problems);
}

/** Validates an object of options (as tests and embedders pass them), applying defaults. */
export function parseConfig(raw: Record<string, unknown>, problems: string[] = []): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = String(issue.path[0]) as keyof Fields;
      const f = fields[key];
      const where = f ? `${key} (--${f.flag} / ${f.env})` : key;
      problems.push(`${where}: ${issue.message}`);
    }
  }
  problems.push(...crossFieldProblems(raw));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return Object.freeze(result.data);
}

export function configHelp(): string {
  const rows = configReference().map((o) => {
    const jac = o.jacCloudDefault !== null ? `; jac-cloud profile: ${o.jacCloudDefault}` : '';
    const shown = o.default !== '' ? ` (default ${o.default}${jac})` : '';
    return `  --${o.flag.padEnd(17)} ${o.env.padEnd(28)} ${o.meaning}${shown}   [${o.key}]`;
  });
  return ['Usage: walker-hub [options]', '', 'Options (flag, environment variable, meaning):', ...rows].join('\n');
}

/** One row of the configuration reference (docs/configuration.md). */
export interface ConfigOption {
  readonly key: string;
  readonly flag: string;
  readonly env: string;
  /** The default: a value (`literal`), a description of one ('' when there is none). */
  readonly default: string;
  readonly literal: boolean;
  /** The jac-cloud profile's default, where it differs by profile. */
  readonly jacCloudDefault: string | null;
  /** Bounds of a numeric option, as "min–max". */
  readonly range: string | null;
  readonly meaning: string;
  /** A docs page (file name in docs/) with more about it. */
  readonly see: string | null;
}

function defaultText(value: unknown): string {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return '';
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** The bounds of an integer option (through its default / optional wrappers), else null. */
function rangeOf(schema: z.ZodType): string | null {
  let inner: unknown = schema;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional) inner = inner.unwrap();
  if (!(inner instanceof z.ZodNumber) || inner.minValue === null || inner.maxValue === null) return null;
  return `${inner.minValue}–${inner.maxValue}`;
}

/** Every option in schema order, for `--help` and the generated configuration page. */
export function configReference(): ConfigOption[] {
  return Object.entries(fields).map(([key, f]): ConfigOption => {
    const note = docNotes[key as keyof Fields];
    const shown = note?.shownDefault;
    const profiled = key in protocolDefaults.native ? (key as ProfiledKey) : null;
    const parsed = f.schema.safeParse(undefined);
    const value = profiled !== null ? String(protocolDefaults.native[profiled]) : parsed.success ? defaultText(parsed.data) : '';
    return {
      key,
      flag: f.flag,
      env: f.env,
      default: shown ?? value,
      literal: shown === undefined && value !== '',
      jacCloudDefault: profiled !== null ? String(protocolDefaults['jac-cloud'][profiled]) : null,
      range: rangeOf(f.schema),
      meaning: f.help,
      see: note?.see ?? null,
    };
  });
}
