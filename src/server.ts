/**
 * Wires the hub together in one place. Each part gets only its own slice of the config.
 */
import { createAuthenticator, type Authenticator } from './auth.js';
import type { Broker } from './broker.js';
import { MemoryBroker } from './broker_memory.js';
import type { Config } from './config.js';
import { Hub } from './hub.js';
import { createLogger, type Logger } from './log.js';
import { createWalkerRoute } from './rest.js';
import { createTransport } from './transport/uws.js';
import { loadWalkers, type LoadedWalker } from './walkers/loader.js';
import { WalkerRunner } from './walkers/runner.js';

export interface CreateHubOptions {
  readonly config: Config;
  /** Already-loaded walkers; loaded from `config.walkersDir` when absent. */
  readonly walkers?: ReadonlyMap<string, LoadedWalker>;
  readonly broker?: Broker;
  readonly log?: Logger;
}

export interface RunningHub {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  readonly hub: Hub;
  readonly authenticator: Authenticator;
  /** The HS256 secret in use (the configured one, or this run's random one). */
  readonly jwtSecret: string;
  readonly walkers: ReadonlyMap<string, LoadedWalker>;
  close(): Promise<void>;
}

export async function createHub(options: CreateHubOptions): Promise<RunningHub> {
  const { config } = options;
  const log = options.log ?? createLogger(config.logLevel, config.logFormat);
  const walkers = options.walkers ?? (await loadWalkers(config.walkersDir));
  const broker = options.broker ?? new MemoryBroker();
  const { authenticator, secret } = createAuthenticator(config, log);
  const runner = new WalkerRunner(walkers, broker, { walkerTimeoutMs: config.walkerTimeoutMs }, log);
  const hub = new Hub({
    options: { peerEvents: config.peerEvents, maxInflightWalkers: config.maxInflightWalkers },
    authenticator,
    runner,
    broker,
    log,
  });
  const startedAt = Date.now();
  const transport = createTransport(config, {
    hub,
    authenticator,
    walkerRoute: createWalkerRoute(runner, authenticator),
    health: () => ({ status: 'ok', uptime_s: Math.round((Date.now() - startedAt) / 1000), walkers: runner.size, ...hub.counts() }),
    log,
  });
  let port: number;
  try {
    await authenticator.start();
    await hub.start(transport.publisher);
    port = await transport.listen();
  } catch (err) {
    transport.close();
    authenticator.close();
    await broker.close();
    throw err;
  }
  let closed: Promise<void> | null = null;
  return {
    host: config.host,
    port,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    hub,
    authenticator,
    jwtSecret: secret,
    walkers,
    close: () =>
      (closed ??= (async () => {
        transport.close();
        authenticator.close();
        await broker.close();
      })()),
  };
}
