/**
 * Certificates for TLS tests, made with the `openssl` command (node:crypto cannot sign X.509).
 * Every key is P-256 and every certificate lives one day, in a folder stopAll() removes.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

export interface CertPair {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
}

/** A self-signed certificate for localhost and 127.0.0.1 (clients pass it as their `ca`). */
export function selfSigned(dir = tempDir('walker-hub-tls-'), name = 'server'): CertPair {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  openssl(['req', '-x509', ...EC, '-days', '1', '-subj', '/CN=localhost', '-keyout', key, '-out', cert, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], dir);
  return { dir, cert, key };
}

/** root -> intermediate -> leaf: clients trust only root.pem, so the hub must send the intermediate. */
export function chain(): CertPair & { readonly root: string; readonly intermediate: string } {
  const dir = tempDir('walker-hub-tls-chain-');
  writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n');
  writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(['req', '-x509', ...EC, '-days', '1', '-subj', '/CN=test root', '-keyout', 'root.key', '-out', 'root.pem', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], dir);
  openssl(['req', ...EC, '-subj', '/CN=test intermediate', '-keyout', 'inter.key', '-out', 'inter.csr'], dir);
  openssl(['x509', '-req', '-in', 'inter.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '2', '-days', '1', '-extfile', 'ca.ext', '-out', 'inter.pem'], dir);
  openssl(['req', ...EC, '-subj', '/CN=localhost', '-keyout', 'leaf.key', '-out', 'leaf.csr'], dir);
  openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'inter.pem', '-CAkey', 'inter.key', '-set_serial', '3', '-days', '1', '-extfile', 'leaf.ext', '-out', 'leaf.pem'], dir);
  return { dir, cert: join(dir, 'leaf.pem'), key: join(dir, 'leaf.key'), root: join(dir, 'root.pem'), intermediate: join(dir, 'inter.pem') };
}
