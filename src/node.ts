/**
 * Wires the hub together in one place. Each part gets only its own slice of the config.
 */
import { createAccountRoutes } from './http/accounts.js';
import { createAuthenticator, type Authenticator } from './auth/authenticator.js';
import type { Identity } from './auth/identity.js';
import type { Broker } from './broker/broker.js';
import { createBroker } from './broker/index.js';
import { systemClock, type Clock } from './clock.js';
import { ConfigError, type Config } from './config.js';
import { Hub } from './hub/hub.js';
import { createLogger, type Logger } from './log.js';
import { LogLimiter } from './log-limiter.js';
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { createApiKeys } from './http/api-keys.js';
import { createHealth, createReadiness } from './http/health.js';
import { buildDemo, createDemoRoutes } from './http/demo.js';
import { RequestTracker } from './http/inflight.js';
import { createNotifyRoutes } from './http/notify.js';
import { createChannelsApi } from './http/channels-api.js';
import { relayServerJoins } from './channels/server-joins.js';
import { ControlRouter } from './broker/control.js';
import { createOpenApiDocument } from './http/openapi.js';
import { RawBody } from './http/request.js';
import { closeCodes } from './errors.js';
import { MeteredBroker } from './metrics/broker.js';
import { createMetrics } from './metrics/registry.js';
import { createMetricsRoute, serveMetrics } from './metrics/route.js';
import { createWalkerRoute } from './http/walker-route.js';
import { createItemsApi } from './http/items-api.js';
import type { RedisThrottles } from './http/redis-throttle.js';
import { Revocations } from './auth/revocations.js';
import { relayRevocations } from './auth/revocation-relay.js';
import { closeWithin } from './shutdown.js';
import { createStore, withDeadline } from './store/index.js';
import type { Store } from './store/store.js';
import { createTransport } from './transport/uws.js';
import { checkTlsFiles, TlsFilesError, watchTlsFiles, type TlsFiles, type TlsSummary } from './transport/tls.js';
import { loadWalkers, type LoadedWalker } from './walkers/loader.js';
import { WalkerRunner } from './walkers/runner.js';
import { WalkerRegistry } from './walkers/registry.js';
import { watchWalkers, type WalkerWatcher } from './walkers/watch.js';
import { profiles } from './profiles/index.js';
import { channelsFileProblems, loadChannelsFile } from './channels/load.js';
import { redisTargetOf } from './broker/redis-target.js';
import type { RedisPresence } from './presence/redis.js';
import type { PresenceClient } from './protocol.js';
import type { MaybePromise } from './maybe.js';
import { ChannelPolicy } from './channels/policy.js';
import { MemoryHistory } from './history/memory.js';
import { HistoryBroker } from './history/broker.js';
import { serverHistory, sharedServerHistory } from './history/recovery.js';
import { RedisHistory } from './history/redis.js';
import { HistoryStreams } from './history/streams.js';
import { PubSubBroker } from './broker/pubsub.js';
import type { ChannelsFile } from './channels/schema.js';
import { loadCollections, type LoadedCollection } from './collections/loader.js';
import { Collections } from './collections/collections.js';
import { LiveSubscriptions } from './collections/live.js';
import { ChangeFeed } from './collections/feed.js';
import { CollectionFrames } from './collections/frames.js';
import { walkerItems } from './collections/walker-items.js';

export interface CreateHubOptions {
  readonly config: Config;
  /** Already-loaded walkers; loaded from `config.walkersDir` when absent. */
  readonly walkers?: ReadonlyMap<string, LoadedWalker>;
  readonly broker?: Broker;
  /**
   * An open store the hub uses (and does not close); opened from the config when absent. Either
   * way the hub calls it through the store deadline (`storeTimeoutMs`).
   */
  readonly store?: Store;
  readonly log?: Logger;
  /** Checked channel namespaces; read from `config.channelsFile` when absent (a ConfigError lists every problem). */
  readonly channels?: ChannelsFile;
  /** The clock of token expiry and log suppression windows; the real one when absent (tests pass a manual one). */
  readonly clock?: Clock;
  /** Already-loaded collections; loaded from `config.collectionsDir` when absent (none when that is unset). */
  readonly collections?: ReadonlyMap<string, LoadedCollection>;
}

export interface RunningHub {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, or `https://host:port` with TLS */
  readonly url: string;
  readonly hub: Hub;
  readonly authenticator: Authenticator;
  /** The store as the hub calls it: every operation bounded by `storeTimeoutMs`. */
  readonly store: Store;
  /** The HS256 secret in use (the configured one, or this run's random one). */
  readonly jwtSecret: string;
  /** The walkers served now (with `watch`, a later read may see a newer set). */
  readonly walkers: ReadonlyMap<string, LoadedWalker>;
  /** Items of the loaded collections, as walkers and backends use them (access rules do not bind a null identity). */
  readonly collections: Collections;
  /** Carries notifications (and revocations) to other nodes; the in-process one without Redis. */
  readonly broker: Broker;
  /** The port of `/metrics` when `metricsPort` is set (else it is on `port`). */
  readonly metricsPort: number | null;
  /**
   * Graceful stop: `/readyz` turns 503, new upgrades and REST requests get 503, every socket is
   * closed with 1012, then in-flight REST requests and walkers are awaited for at most
   * `timeoutMs` (default `drainTimeoutMs`) before everything is closed as by `close()`, within
   * what is left of `timeoutMs` but at least CLOSE_GRACE_MS: it resolves within `timeoutMs` +
   * CLOSE_GRACE_MS whatever the store, Redis or walkers do. Resolves with whether everything in
   * flight finished in time.
   */
  drain(timeoutMs?: number): Promise<boolean>;
  /**
   * Re-reads the TLS files (SIGHUP; also run when they change on disk) and logs what it found.
   * uWS 20.51 cannot swap the certificate of a listening socket, so a valid new certificate is
   * served only after a restart: this reports it (a warning) rather than pretending to load it.
   * Returns the certificate on disk, or null without TLS or when the files are bad (logged).
   */
  checkTls(): TlsSummary | null;
  /** Closes everything at once, waiting at most `drainTimeoutMs` (at least CLOSE_GRACE_MS) for the broker, throttles and store. */
  close(): Promise<void>;
}

const VERSION = (JSON.parse(readFileSync(resolvePath(import.meta.dirname, '../package.json'), 'utf8')) as { version: string }).version;

/** The window of `config.logLimit` (lines per message that client-triggered warnings and errors may write). */
export const LOG_INTERVAL_MS = 10_000;

/**
 * Closing after a drain gets what is left of the drain timeout, but at least this (ms), so a drain
 * that used all of it still lets a healthy store commit and Redis say goodbye.
 */
export const CLOSE_GRACE_MS = 1000;

export async function createHub(options: CreateHubOptions): Promise<RunningHub> {
  const { config } = options;
  const log = options.log ?? createLogger(config.logLevel, config.logFormat);
  // Checked before anything is opened, so bad files fail the start (exit 2) with their reason.
  const tls = tlsFilesOf(config);
  let served: TlsSummary | null = null;
  if (tls) {
    try {
      served = checkTlsFiles(tls);
    } catch (err) {
      if (err instanceof TlsFilesError) throw new ConfigError(err.problems);
      throw err;
    }
  }
  const clock = options.clock ?? systemClock;
  // What clients can make the hub log (walker errors, bad requests, failed routes) goes through
  // this limiter, so one client cannot flood the log; start-up and sync lines use `log` directly.
  const logLimiter = config.logLimit > 0 ? new LogLimiter({ lines: config.logLimit, intervalMs: LOG_INTERVAL_MS, clock }) : null;
  const clientLog = logLimiter?.wrap(log) ?? log;
  const walkers = options.walkers ?? (await loadWalkers(config.walkersDir));
  const registry = new WalkerRegistry(walkers);
  const collectionDefs = options.collections ?? (config.collectionsDir === undefined ? new Map<string, LoadedCollection>() : await loadCollections(config.collectionsDir));
  const channels = new ChannelPolicy(options.channels ?? loadChannelsFile(config.channelsFile, walkers));
  // Bundled once per process, before anything is opened (a failure leaks
  // nothing), so no request ever waits on esbuild.
  const demoRoutes = config.demo ? createDemoRoutes(await buildDemo()) : {};
  const opened = options.store ?? (await createStore({ dataDir: config.dataDir, mongodbUrl: config.mongodbUrl, timeoutMs: config.storeTimeoutMs, shared: config.workerId !== undefined }));
  const ownsStore = options.store === undefined;
  // Sources are read at scrape time; `hub` and `tracker` exist by the time anything scrapes.
  const hubMetrics = createMetrics({
    connections: () => hub.connectionsByAuth(),
    brokerState: () => broker.state(),
    pingStore: () => store.ping(),
    ready: () => !tracker.isDraining,
    replyBacklog: () => hub.replyBacklogChars(),
  }, config.workerId !== undefined ? { worker: String(config.workerId) } : {});
  const { metrics } = hubMetrics;
  // Every part calls the store through its deadline: a hung store is a 503, not a hung request.
  const store = withDeadline(opened, { timeoutMs: config.storeTimeoutMs, onTimeout: (op) => metrics.storeTimedOut(op) });
  // The wire profile, chosen once: its broker and authenticator wrappers are no-ops in the native profile.
  const profile = profiles[config.protocol];
  const innerBroker = options.broker ?? (await createBroker(config, log));
  const broker = new MeteredBroker(profile.broker(innerBroker), metrics);
  const tracker = new RequestTracker(metrics);
  const revocations = new Revocations(store, log);
  // Cluster messages (revocations, server joins) share the broker's control topic.
  const control = new ControlRouter(broker, log);
  relayRevocations(revocations, control);
  // Item changes reach this node's live subscriptions and, over the control topic, every other node's.
  const live = new LiveSubscriptions();
  const feed = new ChangeFeed(live, control);
  const collections = new Collections(collectionDefs, store, (change) => feed.publish(change));
  // Channel history: in this process on one node; in the broker's Redis in a cluster, so every node
  // gives a channel the same offsets (history/redis.ts). Publications go into it on their way to the broker.
  const link = channels.anyHistory && innerBroker instanceof PubSubBroker ? innerBroker.historyLink() : null;
  if (channels.anyHistory && link === null && (config.redisUrl !== undefined || config.redisClusterNodes !== undefined)) {
    throw new ConfigError(['channels file: history needs the Redis broker in a cluster, and this broker is not one']);
  }
  const history = channels.anyHistory && link === null ? new MemoryHistory() : null;
  const sharedHistory = link === null ? null : { store: new RedisHistory(link, config.brokerConfirmTimeoutMs), streams: new HistoryStreams() };
  const publisher = !channels.anyHistory ? null : new HistoryBroker(broker, channels, history, sharedHistory === null ? null : { ...sharedHistory, log: clientLog, failed: () => metrics.historyFailed() });
  const readServerHistory = history !== null ? (channelId: string, o: HistoryOptionsIn) => serverHistory(history, channels, channelId, o) : sharedHistory !== null ? (channelId: string, o: HistoryOptionsIn) => sharedServerHistory(sharedHistory.store, channels, channelId, o) : null;
  // With Redis configured, the login/register budgets live there too, so they hold cluster-wide.
  const throttles = await redisThrottles(config, log);
  const isRevoked = (identity: Identity) =>
    identity.user_id !== null && revocations.isRevoked(identity.tokenId ?? undefined, identity.user_id, identity.issuedAt ?? undefined);
  const created = createAuthenticator(config, log, isRevoked);
  const authenticator = profile.authenticator(created.authenticator, () => clock.now());
  const secret = created.secret;
  // With Redis, presence is shared by every node; one node answers from its registry.
  const presence = await redisPresence(config, log, () => hub.presenceChannels());
  const runner = new WalkerRunner(registry, publisher ?? broker, store, { walkerTimeoutMs: config.walkerTimeoutMs, presence: (channelId: string): MaybePromise<PresenceClient[]> => hub.presence.list(channelId), ...(readServerHistory ? { history: readServerHistory } : {}), ...(collectionDefs.size > 0 ? { items: (collection: string, owner: string) => walkerItems(collections, collection, owner) } : {}) }, clientLog, metrics);
  const hub: Hub = new Hub({
    options: {
      peerEvents: config.peerEvents,
      profile,
      maxInflightWalkers: config.maxInflightWalkers,
      maxInflightChars: config.maxInflightBytes,
      channels,
      replyLine: { maxReplies: config.replyQueueLength, maxChars: config.replyQueueBytes },
      frameRate: { perSec: config.frameRate, burst: config.frameBurst },
    },
    authenticator,
    runner,
    broker: publisher ?? broker,
    ...(history ? { history } : {}),
    ...(sharedHistory ? { sharedHistory } : {}),
    ...(presence ? { presence } : {}),
    log: clientLog,
    clock,
    metrics,
    ...(collectionDefs.size > 0 ? { collections: new CollectionFrames(collections, live, clientLog) } : {}),
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
    ...(throttles ? { throttle: throttles.factory } : {}),
  });
  const apiKeys = createApiKeys(config.apiKeys);
  const notify = createNotifyRoutes({ keys: apiKeys, broker: publisher ?? broker, reach: (kind, ids) => hub.reach(kind, ids) });
  const channelsApi = createChannelsApi({ keys: apiKeys, presence: (channelId) => hub.presence.list(channelId), history: readServerHistory, joins: relayServerJoins(control, (change) => hub.applyServerJoins(change)) });
  const metricsHere = config.metricsPort === undefined;
  const openApiOf = (served: ReadonlyMap<string, LoadedWalker>) => new RawBody('application/json', JSON.stringify(createOpenApiDocument({ walkers: served, version: VERSION, metricsHere, collections: collectionDefs })));
  // Rebuilt when `watch` changes the walkers, so the document always lists the routes served.
  let openApi = openApiOf(walkers);
  registry.onChange((served) => {
    openApi = openApiOf(served);
    // A subscribe walker removed or changed since the start refuses subscriptions (forbidden): say so.
    const problems = config.channelsFile === undefined ? [] : channelsFileProblems(config.channelsFile, served);
    if (problems.length > 0) log.warn('channels file no longer matches the walkers; affected channels refuse subscriptions until it does', { problems });
  });
  const readiness = createReadiness(() => tracker.isDraining);
  const walkerRoute = tracker.wrap(createWalkerRoute(runner, authenticator, profile));
  const itemsApi = collectionDefs.size > 0 ? createItemsApi({ collections, authenticator, keys: apiKeys }) : null;
  const transport = createTransport({ ...config, tls }, {
    hub,
    authenticator,
    badHandshakeToken: profile.badHandshakeToken,
    anyMethodRoutes: {
      ...(profile.rest.allMethods ? { '/walker/:name': walkerRoute, '/walker/:name/:node': walkerRoute } : {}),
      ...(itemsApi ? { '/items/:collection': tracker.wrap(itemsApi.collection), '/items/:collection/:id': tracker.wrap(itemsApi.item) } : {}),
    },
    postRoutes: {
      ...(profile.rest.allMethods ? {} : { '/walker/:name': walkerRoute }),
      '/user/register': tracker.wrap(accounts.register, { budgeted: true }),
      '/user/login': tracker.wrap(accounts.login, { budgeted: true }),
      '/user/logout': tracker.wrap(accounts.logout),
      '/api/notify': tracker.wrap(notify.notify),
      '/api/notify/batch': tracker.wrap(notify.batch),
      '/api/subscriptions': tracker.wrap(channelsApi.subscriptions),
    },
    getRoutes: {
      ...demoRoutes,
      '/readyz': readiness,
      '/api/presence/:channel': tracker.wrap(channelsApi.presence),
      '/api/history/:channel': tracker.wrap(channelsApi.history),
      '/openapi.json': () => ({ status: 200, body: openApi }),
      ...(metricsHere ? { '/metrics': createMetricsRoute(hubMetrics) } : {}),
    },
    health: createHealth({ worker: config.workerId, walkers: () => runner.size, store: store.description, counts: () => hub.counts(), broker: () => broker.health() }),
    log: clientLog,
    metrics,
  });
  let metricsServer: { port: number; close(): Promise<void> } | null = null;
  let tlsWatch: { close(): void } | null = null;
  let walkerWatch: WalkerWatcher | null = null;
  /** Stops the timers, then closes the rest at once, waiting at most `budgetMs` for them. */
  const shutdown = async (budgetMs: number) => {
    tlsWatch?.close();
    walkerWatch?.close();
    transport.close();
    authenticator.close();
    revocations.stop();
    logLimiter?.close();
    const server = metricsServer;
    await closeWithin(
      {
        'metrics server': server ? () => server.close() : null,
        broker: () => broker.close(),
        throttles: throttles ? () => throttles.close() : null,
        presence: presence ? () => presence.close() : null,
        store: ownsStore ? () => store.close() : null,
      },
      budgetMs,
      log,
    );
  };
  const closeBudget = (ms: number) => Math.max(ms, CLOSE_GRACE_MS);
  let port: number;
  try {
    await collections.prepare();
    await revocations.start(config.revocationSyncMs);
    await authenticator.start();
    await hub.start(transport.publisher);
    await throttles?.started;
    await presence?.started;
    // Only a folder the hub loaded from: walkers passed in by an embedder have no folder to watch.
    if (config.watch && options.walkers === undefined) walkerWatch = await watchWalkers(config.walkersDir, registry, log);
    port = await transport.listen();
    if (config.metricsPort !== undefined) metricsServer = await serveMetrics(hubMetrics, config.host, config.metricsPort, log);
  } catch (err) {
    await shutdown(closeBudget(config.drainTimeoutMs));
    throw err;
  }
  log.info('store ready', { store: store.description });
  if (served) log.info('TLS certificate loaded', { ...served });
  const checkTls = (): TlsSummary | null => {
    if (!tls || !served) return null;
    let onDisk: TlsSummary;
    try {
      onDisk = checkTlsFiles(tls);
    } catch (err) {
      log.error('TLS files are unusable; still serving the certificate loaded at start', { problems: err instanceof TlsFilesError ? err.problems : [String(err)], serving: served.fingerprint });
      return null;
    }
    if (onDisk.fingerprint === served.fingerprint) log.info('TLS certificate on disk is the one being served', { ...onDisk });
    else log.warn('TLS certificate on disk changed; this uWS build cannot swap it on a listening socket: restart (SIGTERM drains) to serve it', { on_disk: onDisk, serving: served });
    return onDisk;
  };
  if (tls) {
    const watchFailed = (err: unknown) => log.warn('cannot watch the TLS files; SIGHUP still re-checks them', { error: String(err) });
    try {
      tlsWatch = watchTlsFiles(tls, () => void checkTls(), watchFailed);
    } catch (err) {
      // Out of inotify watches, say: serving goes on, only the automatic check is lost.
      watchFailed(err);
    }
  }
  const metricsPortBound: number | null = metricsServer?.port ?? null;
  let closed: Promise<void> | null = null;
  const close = (budgetMs = closeBudget(config.drainTimeoutMs)) => (closed ??= shutdown(budgetMs));
  let drained: Promise<boolean> | null = null;
  const drain = async (timeoutMs: number): Promise<boolean> => {
    const deadline = performance.now() + timeoutMs;
    tracker.drain();
    transport.refuseUpgrades();
    log.debug('draining', { connections: hub.counts().clients, requests: tracker.inflight, walkers: runner.inflight, timeout_ms: timeoutMs });
    hub.closeAll('server restarting; reconnect', closeCodes.restarting);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = await Promise.race([Promise.all([tracker.idle(), runner.idle()]).then(() => true as const), late]);
    clearTimeout(timer);
    if (!finished) log.warn('drain timed out; closing with work in flight', { requests: tracker.inflight, walkers: runner.inflight });
    // One macrotask turn, so responses written by the last requests' continuations leave before the sockets close.
    await new Promise<void>((resolve) => setImmediate(resolve));
    await close(closeBudget(deadline - performance.now()));
    return finished;
  };
  return {
    host: config.host,
    port,
    url: `${tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    hub,
    authenticator,
    store,
    jwtSecret: secret,
    get walkers() {
      return registry.current;
    },
    collections,
    broker: innerBroker,
    metricsPort: metricsPortBound,
    drain: (timeoutMs = config.drainTimeoutMs) => (drained ??= drain(timeoutMs)),
    checkTls,
    close: () => close(),
  };
}

type HistoryOptionsIn = { limit?: number | undefined; since?: { offset: number; epoch: string } | undefined };

function tlsFilesOf(config: Config): TlsFiles | undefined {
  if (config.tlsCert === undefined || config.tlsKey === undefined) return undefined;
  return { certFile: config.tlsCert, keyFile: config.tlsKey, passphrase: config.tlsPassphrase, caFile: config.tlsCa };
}

/** Presence in Redis (or Redis Cluster) when configured; null: the hub answers from its registry. */
async function redisPresence(config: Config, log: Logger, localMembers: () => Iterable<[string, PresenceClient[]]>): Promise<RedisPresence | null> {
  const target = redisTargetOf(config);
  if (target === null) return null;
  // Imported here, not at the top: ioredis loads only in a hub configured with Redis.
  const { RedisPresence } = await import('./presence/redis.js');
  return new RedisPresence(target, { prefix: config.redisPrefix, ttlMs: config.presenceTtlSec * 1000, localMembers, log });
}

/** The Redis-backed throttles when Redis (or Redis Cluster) is configured; null keeps them in memory. */
async function redisThrottles(config: Config, log: Logger): Promise<RedisThrottles | null> {
  const target = redisTargetOf(config);
  if (target === null) return null;
  const { createRedisThrottles } = await import('./http/redis-throttle.js');
  // Connection errors repeat on every retry; the first of each outage is enough in the log.
  let failing = false;
  const throttles = createRedisThrottles(target, config.redisPrefix, (err) => {
    if (failing) return;
    failing = true;
    log.warn('throttle store unavailable; login/register limits count per node until Redis is back', { error: err.message });
  });
  throttles.onReady(() => {
    if (failing) log.info('throttle store restored; login/register limits hold cluster-wide again');
    failing = false;
  });
  return throttles;
}
