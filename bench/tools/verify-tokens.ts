/**
 * `node --import tsx bench/tools/verify-tokens.ts [path/to/auth/authenticator.ts]`: how many tokens
 * per second `Authenticator.verify` checks (the call every token upgrade makes, synchronously), per
 * algorithm, against a JWKS served on 127.0.0.1:0. Pass another authenticator module to compare
 * (e.g. an older checkout's); it is configured without issuer/audience, which older versions applied
 * to HS256 tokens too.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { silentLogger } from '../../src/log.js';

type Verify = { verify(token: string): unknown; start(): Promise<void>; close(): void };
type Create = (config: Record<string, unknown>, log: typeof silentLogger) => { authenticator: Verify };

const modulePath = resolve(process.argv[2] ?? 'src/auth/authenticator.ts');
const { createAuthenticator } = (await import(pathToFileURL(modulePath).href)) as { createAuthenticator: Create };
const SECRET = 'bench-secret-bench-secret-bench-secret-0';
const ISS = 'https://idp.bench';
const AUD = 'hub';
const ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

const keys = await Promise.all(ALGS.map(async (alg) => ({ alg, pair: await generateKeyPair(alg, { extractable: true }) })));
const jwks = { keys: await Promise.all(keys.map(async ({ alg, pair }) => ({ ...(await exportJWK(pair.publicKey)), kid: alg, alg, use: 'sig' }))) };
const server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(jwks)));
await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
const scoped = process.argv[2] === undefined ? { jwtIssuer: ISS, jwtAudience: AUD } : {};
const { authenticator } = createAuthenticator({ jwtSecret: SECRET, jwksUrl: url, ...scoped }, silentLogger);
await authenticator.start();

const claims = { sub: 'u1', iss: ISS, aud: AUD };
const tokens: Array<[string, string]> = [
  ['HS256', await new SignJWT({ sub: 'u1', root_id: 'n::0123456789abcdef01234567' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(SECRET))],
];
for (const { alg, pair } of keys) tokens.push([alg, await new SignJWT(claims).setProtectedHeader({ alg, kid: alg }).setIssuedAt().setExpirationTime('1h').sign(pair.privateKey)]);

const DURATION_MS = 1500;
for (const [alg, token] of tokens) {
  authenticator.verify(token); // fails loudly here if the token is refused
  for (let i = 0; i < 200; i++) authenticator.verify(token);
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < DURATION_MS) {
    for (let i = 0; i < 50; i++) authenticator.verify(token);
    n += 50;
  }
  const sec = (performance.now() - start) / 1000;
  process.stdout.write(`${alg.padEnd(6)} ${Math.round(n / sec).toString().padStart(8)} verifications/s  (${((sec * 1e6) / n).toFixed(1)} µs each)\n`);
}
authenticator.close();
server.close();
