/**
 * Wires the hub together in one place. Each part gets only its own slice of the config.
 */
import { createAccountRoutes } from './http/accounts.js';
import { createAuthenticator, type Authenticator } from './auth/authenticator.js';
import type { Identity } from './auth/identity.js';
import type { Broker } from './broker/broker.js';
import { createBroker } from './broker/index.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { Hub } from './hub/hub.js';
import { createLogger, type Logger } from './log.js';
import { LogLimiter } from './log-limiter.js';
import { createHealth } from './http/health.js';
import { buildDemo, createDemoRoutes } from './http/demo.js';
import { createWalkerRoute } from './http/walker-route.js';
import { Revocations } from './auth/revocations.js';
import { relayRevocations } from './auth/revocation-relay.js';
import { createStore } from './store/index.js';
import type { Store } from './store/store.js';
import { createTransport } from './transport/uws.js';
import { loadWalkers, type LoadedWalker } from './walkers/loader.js';
import { WalkerRunner } from './walkers/runner.js';
import { profiles } from './profiles/index.js';

export interface CreateHubOptions {
  readonly config: Config;
  /** Already-loaded walkers; loaded from `config.walkersDir` when absent. */
  readonly walkers?: ReadonlyMap<string, LoadedWalker>;
  readonly broker?: Broker;
  /** An open store the hub uses (and does not close); opened from the config when absent. */
  readonly store?: Store;
  readonly log?: Logger;
  /** The clock of token expiry and log suppression windows; the real one when absent (tests pass a manual one). */
  readonly clock?: Clock;
}

export interface RunningHub {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  readonly hub: Hub;
  readonly authenticator: Authenticator;
  readonly store: Store;
  /** The HS256 secret in use (the configured one, or this run's random one). */
  readonly jwtSecret: string;
  readonly walkers: ReadonlyMap<string, LoadedWalker>;
  /** Carries notifications (and revocations) to other nodes; the in-process one without Redis. */
  readonly broker: Broker;
  close(): Promise<void>;
}

/** The window of `config.logLimit` (lines per message that client-triggered warnings and errors may write). */
export const LOG_INTERVAL_MS = 10_000;

export async function createHub(options: CreateHubOptions): Promise<RunningHub> {
  const { config } = options;
  const log = options.log ?? createLogger(config.logLevel, config.logFormat);
  const clock = options.clock ?? systemClock;
  // What clients can make the hub log (walker errors, bad requests, failed routes) goes through
  // this limiter, so one client cannot flood the log; start-up and sync lines use `log` directly.
  const logLimiter = config.logLimit > 0 ? new LogLimiter({ lines: config.logLimit, intervalMs: LOG_INTERVAL_MS, clock }) : null;
  const clientLog = logLimiter?.wrap(log) ?? log;
  const walkers = options.walkers ?? (await loadWalkers(config.walkersDir));
  // Bundled once per process, before anything is opened (a failure leaks
  // nothing), so no request ever waits on esbuild.
  const demoRoutes = config.demo ? createDemoRoutes(await buildDemo()) : {};
  const store = options.store ?? (await createStore({ dataDir: config.dataDir, mongodbUrl: config.mongodbUrl }));
  const ownsStore = options.store === undefined;
  // The wire profile, chosen once: its broker and authenticator wrappers are no-ops in the native profile.
  const profile = profiles[config.protocol];
  const broker = profile.broker(options.broker ?? createBroker(config, log));
  const revocations = new Revocations(store, log);
  relayRevocations(revocations, broker, log);
  const isRevoked = (identity: Identity) =>
    identity.user_id !== null && revocations.isRevoked(identity.tokenId ?? undefined, identity.user_id, identity.issuedAt ?? undefined);
  const created = createAuthenticator(config, log, isRevoked);
  const authenticator = profile.authenticator(created.authenticator, () => clock.now());
  const secret = created.secret;
  const runner = new WalkerRunner(walkers, broker, store, { walkerTimeoutMs: config.walkerTimeoutMs }, clientLog);
  const hub = new Hub({
    options: {
      peerEvents: config.peerEvents,
      profile,
      maxInflightWalkers: config.maxInflightWalkers,
      frameRate: { perSec: config.frameRate, burst: config.frameBurst },
    },
    authenticator,
    runner,
    broker,
    log: clientLog,
    clock,
  });
  // A logout (here, or on another node once synced) downgrades the sockets using those tokens.
  revocations.onRevoked(() => hub.revokeWhere(isRevoked));
  const accounts = createAccountRoutes({
    store,
    revocations,
    authenticator,
    secret,
    options: {
      tokenTtlSec: config.tokenTtlSec,
      passwordHashCost: config.passwordHashCost,
      audience: config.jwtAudience,
      rateLimits: {
        perIp: { points: config.authRatePerIp, durationSec: config.authRateWindowSec },
        perAccount: { points: config.authRatePerAccount, durationSec: config.authRateWindowSec },
      },
    },
    log: clientLog,
  });
  const walkerRoute = createWalkerRoute(runner, authenticator, profile);
  const transport = createTransport(config, {
    hub,
    authenticator,
    badHandshakeToken: profile.badHandshakeToken,
    getRoutes: { ...demoRoutes },
    ...(profile.rest.allMethods ? { anyMethodRoutes: { '/walker/:name': walkerRoute, '/walker/:name/:node': walkerRoute } } : {}),
    postRoutes: {
      ...(profile.rest.allMethods ? {} : { '/walker/:name': walkerRoute }),
      '/user/register': accounts.register,
      '/user/login': accounts.login,
      '/user/logout': accounts.logout,
    },
    health: createHealth({ walkers: runner.size, store: store.description, counts: () => hub.counts(), broker: () => broker.health() }),
    log: clientLog,
  });
  const shutdown = async () => {
    transport.close();
    authenticator.close();
    revocations.stop();
    logLimiter?.close();
    await broker.close();
    if (ownsStore) await store.close();
  };
  let port: number;
  try {
    await revocations.start(config.revocationSyncMs);
    await authenticator.start();
    await hub.start(transport.publisher);
    port = await transport.listen();
  } catch (err) {
    await shutdown();
    throw err;
  }
  log.info('store ready', { store: store.description });
  let closed: Promise<void> | null = null;
  return {
    host: config.host,
    port,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    hub,
    authenticator,
    store,
    jwtSecret: secret,
    walkers,
    broker,
    close: () => (closed ??= shutdown()),
  };
}
