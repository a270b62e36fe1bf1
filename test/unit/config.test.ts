import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { configHelp, ConfigError, loadConfig, parseConfig } from '../../src/config.js';

describe('config', () => {
  it('has production defaults', () => {
    const c = loadConfig([], {});
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8000,
      walkersDir: 'walkers',
      peerEvents: 'authenticated',
      maxPayloadBytes: 65536,
      logLevel: 'info',
      logFormat: 'auto',
    });
    expect(c.jwtSecret).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads env vars, and flags win over env', () => {
    const env = { WALKER_HUB_PORT: '9001', WALKER_HUB_HOST: '0.0.0.0', WALKER_HUB_PEER_EVENTS: 'public' };
    expect(loadConfig([], env)).toMatchObject({ port: 9001, host: '0.0.0.0', peerEvents: 'public' });
    expect(loadConfig(['--port', '9002', '--walkers=/tmp/w'], env)).toMatchObject({ port: 9002, walkersDir: '/tmp/w', host: '0.0.0.0' });
  });

  it('treats an empty optional value as unset', () => {
    expect(loadConfig([], { WALKER_HUB_JWT_SECRET: '', WALKER_HUB_JWKS_URL: '' }).jwtSecret).toBeUndefined();
  });

  it('reports every problem at once, naming flag and env var', () => {
    let error: unknown;
    try {
      loadConfig(['--port', 'seventy', '--bogus', '--peer-events=everyone', '--jwt-secret', 'short', '--host'], {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('unknown argument "--bogus"');
    expect(problems).toContain('--host needs a value');
    expect(problems).toMatch(/port \(--port \/ WALKER_HUB_PORT\)/);
    expect(problems).toMatch(/peerEvents \(--peer-events \/ WALKER_HUB_PEER_EVENTS\)/);
    expect(problems).toMatch(/jwtSecret .*at least 32 characters/);
    expect((error as ConfigError).problems).toHaveLength(5);
  });

  it('validates ranges and URLs', () => {
    expect(() => parseConfig({ port: 70000 })).toThrow(ConfigError);
    expect(() => parseConfig({ maxPayloadBytes: 10 })).toThrow(/maxPayloadBytes/);
    expect(() => parseConfig({ jwksUrl: 'not a url' })).toThrow(/jwksUrl/);
    expect(() => parseConfig({ idleTimeoutSec: 5 })).toThrow(/idleTimeoutSec.*0 or between 8 and 960/);
    expect(parseConfig({ idleTimeoutSec: 0 }).idleTimeoutSec).toBe(0);
    expect(parseConfig({ announce: '1' }).announce).toBe(true);
  });

  it('refuses --jwks-url without both an issuer and an audience, alongside every other problem', () => {
    const reason = /jwksUrl \(--jwks-url \/ WALKER_HUB_JWKS_URL\): needs both --jwt-issuer and --jwt-audience/;
    for (const extra of [[], ['--jwt-issuer', 'https://idp.test'], ['--jwt-audience', 'hub']]) {
      expect(() => loadConfig(['--jwks-url', 'https://idp.test/jwks.json', ...extra], {})).toThrow(reason);
    }
    // Reported together with a per-field problem, not instead of it.
    let error: unknown;
    try {
      loadConfig(['--port', 'seventy'], { WALKER_HUB_JWKS_URL: 'https://idp.test/jwks.json' });
    } catch (err) {
      error = err;
    }
    expect((error as ConfigError).problems).toEqual([expect.stringMatching(/^port /), expect.stringMatching(reason)]);
    const ok = loadConfig(['--jwks-url', 'https://idp.test/jwks.json', '--jwt-issuer', 'https://idp.test', '--jwt-audience', 'hub'], {});
    expect(ok).toMatchObject({ jwksUrl: 'https://idp.test/jwks.json', jwtIssuer: 'https://idp.test', jwtAudience: 'hub', jwtTrustClaims: false });
    expect(loadConfig([], { WALKER_HUB_JWT_TRUST_CLAIMS: 'true' }).jwtTrustClaims).toBe(true);
    expect(() => parseConfig({ jwtTrustClaims: 'yes' })).toThrow(/jwtTrustClaims/);
  });

  it('reads the broker keys and refuses a bad Redis URL, a bad node list, or both at once', () => {
    const defaults = loadConfig([], {});
    expect([defaults.redisUrl, defaults.redisClusterNodes, defaults.redisPrefix]).toEqual([undefined, undefined, 'wh:']);
    expect(loadConfig(['--redis-prefix', 'app1:'], { REDIS_URL: 'redis://127.0.0.1:6379' })).toMatchObject({ redisUrl: 'redis://127.0.0.1:6379', redisPrefix: 'app1:' });
    expect(loadConfig([], { REDIS_CLUSTER_NODES: 'a:7000,b:7001' }).redisClusterNodes).toBe('a:7000,b:7001');
    const problems = (argv: string[], env: Record<string, string>) => {
      try {
        loadConfig(argv, env);
      } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
      }
      return [];
    };
    expect(problems([], { REDIS_URL: 'http://x' })).toEqual([expect.stringContaining('REDIS_URL')]);
    expect(problems([], { REDIS_CLUSTER_NODES: 'a:7000,b' })).toEqual([expect.stringContaining('host:port')]);
    expect(problems(['--redis-prefix', 'has space'], {})).toEqual([expect.stringContaining('--redis-prefix')]);
    expect(problems([], { REDIS_URL: 'redis://a', REDIS_CLUSTER_NODES: 'a:7000' })).toEqual([expect.stringContaining('set one, not both')]);
  });

  it('takes TLS files as a pair and compression as off, shared or dedicated', () => {
    expect(loadConfig([], {})).toMatchObject({ compression: 'off' });
    expect(loadConfig([], {}).tlsCert).toBeUndefined();
    const env = { WALKER_HUB_TLS_CERT: 'c.pem', WALKER_HUB_TLS_KEY: 'k.pem', WALKER_HUB_COMPRESSION: 'shared' };
    expect(loadConfig(['--tls-ca', 'ca.pem'], env)).toMatchObject({ tlsCert: 'c.pem', tlsKey: 'k.pem', tlsCa: 'ca.pem', compression: 'shared' });
    expect(() => loadConfig(['--tls-cert', 'c.pem'], {})).toThrow(/tlsCert .* and tlsKey .*: set both, or neither/);
    expect(() => loadConfig(['--tls-key', 'k.pem', '--compression', 'max'], {})).toThrow(/compression \(--compression[\s\S]*set both/);
    expect(() => loadConfig(['--tls-passphrase', 'x'], {})).toThrow(/need --tls-cert and --tls-key/);
  });

  it('prints help with every flag', () => {
    const help = configHelp();
    for (const flag of ['--host', '--port', '--walkers', '--jwt-secret', '--jwks-url', '--jwt-trust-claims', '--peer-events', '--max-payload', '--max-body']) {
      expect(help).toContain(flag);
    }
  });
  it('workers: 1 by default, auto = the cores, more than one only with Redis (or Redis Cluster)', () => {
    expect(loadConfig([], {}).workers).toBe(1);
    const redis = { REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(loadConfig(['--workers', 'auto'], redis).workers).toBe(availableParallelism());
    expect(loadConfig([], { ...redis, WALKER_HUB_WORKERS: '3' }).workers).toBe(3);
    expect(loadConfig(['--workers', '2', '--redis-cluster-nodes', '127.0.0.1:7000'], {}).workers).toBe(2);
    expect(() => loadConfig(['--workers', '2'], {})).toThrow(/workers \(--workers \/ WALKER_HUB_WORKERS\): 2 workers need Redis/);
    expect(() => loadConfig(['--workers', '0'], redis)).toThrow(ConfigError);
    expect(() => loadConfig(['--workers', 'many'], redis)).toThrow(ConfigError);
  });
});
