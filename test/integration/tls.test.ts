/** TLS on the hub's own port: https:// and wss:// with a test certificate, and what plain HTTP gets there. */
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { TestClient, startHub, stopAll } from '../helpers.js';
import { chain, selfSigned } from '../tls-certs.js';

const opened = new Set<TestClient>();
afterEach(async () => {
  await Promise.all([...opened].map((c) => c.close()));
  opened.clear();
});
afterAll(stopAll);

/** GET over https trusting only `ca`; resolves with status and body. */
function httpsGet(port: number, path: string, ca: string | Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca: typeof ca === 'string' ? readFileSync(ca) : ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function wss(port: number, ca: string): Promise<TestClient> {
  const client = await TestClient.connect(`wss://127.0.0.1:${port}/websocket`, { ca: readFileSync(ca) });
  opened.add(client);
  return client;
}

describe('TLS', () => {
  it('serves https:// and wss:// on one port; plain HTTP there fails cleanly and the hub keeps serving', async () => {
    const pair = selfSigned();
    const hub = await startHub({ tlsCert: pair.cert, tlsKey: pair.key });
    expect(hub.url).toBe(`https://127.0.0.1:${hub.port}`);

    const health = await httpsGet(hub.port, '/healthz', pair.cert);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });

    const client = await wss(hub.port, pair.cert);
    expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });

    // A plain-text request gets no HTTP answer from a TLS port: the request fails, nothing hangs.
    await expect(fetch(`http://127.0.0.1:${hub.port}/healthz`)).rejects.toThrow();
    expect((await httpsGet(hub.port, '/healthz', pair.cert)).status).toBe(200);
    expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
  });

  it('sends the --tls-ca intermediates after the leaf, so clients that trust only the root connect', async () => {
    const c = chain();
    const hub = await startHub({ tlsCert: c.cert, tlsKey: c.key, tlsCa: c.intermediate });
    expect((await httpsGet(hub.port, '/healthz', c.root)).status).toBe(200);
    const client = await wss(hub.port, c.root);
    expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
  });

  it('reads an encrypted key with --tls-passphrase, and names a wrong passphrase', async () => {
    const pair = selfSigned();
    const encrypted = join(pair.dir, 'encrypted.key');
    execFileSync('openssl', ['pkey', '-in', pair.key, '-aes256', '-passout', 'pass:correct horse', '-out', encrypted]);
    const hub = await startHub({ tlsCert: pair.cert, tlsKey: encrypted, tlsPassphrase: 'correct horse' });
    expect((await httpsGet(hub.port, '/healthz', pair.cert)).status).toBe(200);
    await expect(startHub({ tlsCert: pair.cert, tlsKey: encrypted, tlsPassphrase: 'wrong' })).rejects.toThrow(/--tls-key .*encrypted\.key: not a PEM private key, or wrong passphrase/);
  });

  it('refuses to start on bad files, naming each one and why', async () => {
    const a = selfSigned();
    const b = selfSigned(a.dir, 'other');
    const start = (files: Record<string, string>) => startHub(files).then(
      () => [] as string[],
      (err: unknown) => (err instanceof ConfigError ? err.problems : [`not a ConfigError: ${String(err)}`]),
    );
    expect(await start({ tlsCert: join(a.dir, 'missing.pem'), tlsKey: a.key })).toEqual([expect.stringMatching(/--tls-cert .*missing\.pem: ENOENT/)]);
    expect(await start({ tlsCert: a.key, tlsKey: a.key })).toEqual([expect.stringMatching(/--tls-cert .*: not a PEM certificate/)]);
    expect(await start({ tlsCert: a.cert, tlsKey: a.cert })).toEqual([expect.stringMatching(/--tls-key .*: not a PEM private key/)]);
    expect(await start({ tlsCert: a.cert, tlsKey: b.key })).toEqual([expect.stringMatching(/--tls-key .*other\.key does not match the public key of --tls-cert/)]);
  });

  it('notices renewed files, keeps connections, and says a restart is needed to serve them', async () => {
    const pair = selfSigned();
    const warnings: Array<{ msg: string; on_disk?: { fingerprint: string } }> = [];
    let onWarning: () => void = () => undefined;
    const log = createLogger('warn', 'json', (line) => {
      warnings.push(JSON.parse(line) as (typeof warnings)[number]);
      onWarning();
    });
    const hub = await startHub({ tlsCert: pair.cert, tlsKey: pair.key }, { log });
    const client = await wss(hub.port, pair.cert);
    const original = readFileSync(pair.cert);
    const served = hub.checkTls();
    expect(served).not.toBeNull();

    // Renewal as certbot does it: new files renamed over the old ones.
    const renewed = selfSigned(pair.dir, 'renewed');
    const warned = new Promise<void>((resolve) => (onWarning = resolve));
    renameSync(renewed.key, pair.key);
    renameSync(renewed.cert, pair.cert);
    await warned;
    const onDisk = hub.checkTls();
    expect(onDisk?.fingerprint).not.toBe(served?.fingerprint);
    expect(warnings[0]).toMatchObject({ msg: expect.stringMatching(/certificate on disk changed.*restart/), on_disk: { fingerprint: onDisk?.fingerprint } });
    expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    // The listening socket still serves the certificate it started with.
    expect((await httpsGet(hub.port, '/healthz', original)).status).toBe(200);
    await expect(httpsGet(hub.port, '/healthz', pair.cert)).rejects.toThrow();
  });
});
