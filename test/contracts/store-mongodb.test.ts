/**
 * The MongoDB store: the shared contract against a real server at MONGODB_URL, one fresh database
 * per test (dropped afterwards). Without MONGODB_URL the contract is skipped loudly, unless
 * REQUIRE_SERVICES=1 (CI), where a missing server is a failure.
 */
import { randomBytes } from 'node:crypto';
import { createServer, connect as tcpConnect, type AddressInfo, type Socket } from 'node:net';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMongoStore, redactUrl } from '../../src/store/mongodb.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { storeContract } from './store.contract.js';
import { itemsContract } from './items.contract.js';

const MONGODB_URL = process.env['MONGODB_URL'];
const REQUIRE_SERVICES = process.env['REQUIRE_SERVICES'] === '1';

/** The server URL with the database path replaced (the URL may carry options after `?`). */
function withDatabase(url: string, db: string): string {
  const [base = '', query] = url.split('?', 2) as [string, string | undefined];
  const hosts = base.replace(/^(mongodb(?:\+srv)?:\/\/[^/]*).*$/s, '$1');
  return `${hosts}/${db}${query === undefined ? '' : `?${query}`}`;
}

if (MONGODB_URL) {
  const url = MONGODB_URL;
  let admin: MongoClient;
  beforeAll(async () => {
    admin = await new MongoClient(url, { serverSelectionTimeoutMS: 5000 }).connect();
  });
  afterAll(async () => {
    await admin?.close();
  });

  /** A MongoDB store on a database of its own, dropped by cleanup. */
  const freshMongo = async () => {
    const dbName = `walker_hub_test_${randomBytes(6).toString('hex')}`;
    const store = await createMongoStore(withDatabase(url, dbName));
    return {
      store,
      async cleanup() {
        await store.close();
        await admin.db(dbName).dropDatabase();
      },
    };
  };

  storeContract('mongodb', freshMongo);

  itemsContract('mongodb', freshMongo);

  describe('mongodb store setup', () => {
    it('uses the database named in the URL and describes itself without credentials', async () => {
      const dbName = `walker_hub_test_${randomBytes(6).toString('hex')}`;
      const store = await createMongoStore(withDatabase(url, dbName));
      try {
        expect(store.description).toBe(redactUrl(withDatabase(url, dbName)));
        expect(store.description.endsWith(`/${dbName}`)).toBe(true);
        const indexes = await admin.db(dbName).collection('users').indexes();
        expect(indexes.filter((i) => i.unique).map((i) => Object.keys(i.key)).sort()).toEqual([['email'], ['root_id']]);
        const ttl = await admin.db(dbName).collection('token_revocations').indexes();
        expect(ttl.find((i) => i.key['expires_at'] === 1)?.expireAfterSeconds).toBe(0);
      } finally {
        await store.close();
        await admin.db(dbName).dropDatabase();
      }
    });

    it('turns a lost connection into StoreUnavailableError', async () => {
      // A TCP relay to the real server that the test can cut, as a network failure would.
      const target = new URL(url.replace(/^mongodb:/, 'http:'));
      const sockets = new Set<Socket>();
      const relay = createServer((inbound) => {
        const outbound = tcpConnect(Number(target.port || 27017), target.hostname);
        for (const s of [inbound, outbound]) {
          sockets.add(s);
          s.on('error', () => {
            // Expected once the relay is cut; the other side is destroyed with it.
          });
        }
        outbound.on('close', () => inbound.destroy());
        inbound.on('close', () => outbound.destroy());
        inbound.pipe(outbound).pipe(inbound);
      });
      await new Promise<void>((done) => relay.listen(0, '127.0.0.1', done));
      const dbName = `walker_hub_test_${randomBytes(6).toString('hex')}`;
      const port = (relay.address() as AddressInfo).port;
      const store = await createMongoStore(`mongodb://127.0.0.1:${port}/${dbName}`, { serverSelectionTimeoutMS: 500 });
      try {
        await store.kvPut('n::000000000000000000000002', 'k', 1);
        const closed = new Promise((done) => relay.close(done));
        for (const s of sockets) s.destroy();
        await closed;
        await expect(store.kvGet('n::000000000000000000000002', 'k')).rejects.toThrow(StoreUnavailableError);
        await expect(store.createUser({ id: 'x', email: 'x@example.com', root_id: 'n::x', password_hash: 'h', created_at: 0 })).rejects.toThrow(StoreUnavailableError);
        await expect(store.ping()).rejects.toThrow(StoreUnavailableError);
      } finally {
        await store.close();
        await admin.db(dbName).dropDatabase();
      }
    });
  });
} else if (REQUIRE_SERVICES) {
  describe('mongodb store contract', () => {
    it('needs a MongoDB server', () => {
      throw new Error('MONGODB_URL is required when REQUIRE_SERVICES=1');
    });
  });
} else {
  console.warn('SKIPPED: MongoDB store contract — MONGODB_URL is not set');
  describe.skip('mongodb store contract (MONGODB_URL is not set)', () => {
    it('runs against a real MongoDB server', () => {});
  });
}

describe('mongodb store without a server', () => {
  it('fails fast with StoreUnavailableError naming the URL without its credentials', async () => {
    const started = Date.now();
    const err: unknown = await createMongoStore('mongodb://user:secret@127.0.0.1:1/x', { serverSelectionTimeoutMS: 500 }).then(
      () => new Error('expected the connection to fail'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreUnavailableError);
    const message = (err as Error).message;
    expect(message).toContain('127.0.0.1:1');
    expect(message).not.toContain('secret');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('redacts credentials and options from URLs', () => {
    expect(redactUrl('mongodb://user:secret@127.0.0.1:1/x')).toBe('mongodb://127.0.0.1:1/x');
    expect(redactUrl('mongodb://u:p@ss@a:1,b:2/db?authSource=admin&tlsCertificateKeyFilePassword=s3')).toBe('mongodb://a:1,b:2/db');
    expect(redactUrl('mongodb+srv://u:p@cluster.example.net')).toBe('mongodb+srv://cluster.example.net/walker_hub');
    expect(redactUrl('mongodb://localhost:27017/?w=majority')).toBe('mongodb://localhost:27017/walker_hub');
    expect(redactUrl('postgres://u:p@h/db')).not.toContain('p@h');
  });
});
