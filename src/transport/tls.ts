/**
 * TLS files, checked before uWS sees them. uWS (uSockets) reads the files itself and, when one is
 * missing or wrong, only yields an app whose listen fails with no reason; so each file is read and
 * parsed here first, synchronously, and every problem is named.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly passphrase?: string | undefined;
  /** Intermediate certificates, sent after the leaf. */
  readonly caFile?: string | undefined;
}

/** What was loaded, for logs and for telling whether the files on disk changed. */
export interface TlsSummary {
  readonly subject: string;
  readonly validTo: string;
  /** SHA-256 fingerprint of the leaf certificate. */
  readonly fingerprint: string;
}

export class TlsFilesError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'TlsFilesError';
  }
}

/** Reads and checks the files; throws TlsFilesError listing every problem found. */
export function checkTlsFiles(files: TlsFiles): TlsSummary {
  const problems: string[] = [];
  const read = (what: string, path: string): string | null => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      problems.push(`${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return null;
    }
  };
  const certPem = read('--tls-cert', files.certFile);
  const keyPem = read('--tls-key', files.keyFile);
  const caPem = files.caFile === undefined ? null : read('--tls-ca', files.caFile);

  let cert: X509Certificate | null = null;
  if (certPem !== null) {
    try {
      cert = new X509Certificate(certPem);
    } catch (err) {
      problems.push(`--tls-cert ${files.certFile}: not a PEM certificate (${(err as Error).message})`);
    }
  }
  let key: KeyObject | null = null;
  if (keyPem !== null) {
    try {
      key = createPrivateKey(files.passphrase === undefined ? { key: keyPem } : { key: keyPem, passphrase: files.passphrase });
    } catch (err) {
      problems.push(`--tls-key ${files.keyFile}: not a PEM private key, or wrong passphrase (${(err as Error).message})`);
    }
  }
  if (caPem !== null && files.caFile !== undefined) {
    try {
      new X509Certificate(caPem);
    } catch (err) {
      problems.push(`--tls-ca ${files.caFile}: not a PEM certificate (${(err as Error).message})`);
    }
  }
  if (cert && key && !cert.checkPrivateKey(key)) {
    problems.push(`--tls-key ${files.keyFile} does not match the public key of --tls-cert ${files.certFile}`);
  }
  if (problems.length > 0 || !cert) throw new TlsFilesError(problems);
  return { subject: cert.subject.replace(/\n/g, ', '), validTo: cert.validTo, fingerprint: cert.fingerprint256 };
}

/**
 * Calls `onChange` (at most once per `settleMs`) when any of the files is written, replaced or
 * renamed over. Folders are watched, not the files: certbot and Kubernetes replace files by
 * renaming, which a watch on the old file would miss. Throws when a folder cannot be watched.
 */
export function watchTlsFiles(files: TlsFiles, onChange: () => void, onError: (err: Error) => void, settleMs = 200): { close(): void } {
  const paths = [files.certFile, files.keyFile, ...(files.caFile === undefined ? [] : [files.caFile])].map((p) => resolve(p));
  const byDir = new Map<string, Set<string>>();
  for (const p of paths) {
    const names = byDir.get(dirname(p)) ?? new Set<string>();
    names.add(basename(p));
    byDir.set(dirname(p), names);
  }
  let timer: NodeJS.Timeout | undefined;
  // Writers touch the cert and the key one after the other: wait for the pair to settle.
  const fire = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, settleMs);
    timer.unref();
  };
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of byDir) {
    // A Kubernetes secret mount swaps a `..data` symlink, so any change in the folder counts there.
    const w = watch(dir, { persistent: false }, (_event, name) => {
      if (name === null || names.has(name) || name.startsWith('..')) fire();
    });
    // A folder removed or unmounted under the watch: reported, never an unhandled 'error' event.
    w.on('error', onError);
    watchers.push(w);
  }
  return {
    close: () => {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}

/**
 * The certificate file to hand uWS. uSockets reads its cert file as a chain (leaf first) but its
 * own `ca_file_name` asks clients for certificates (mutual TLS), so `--tls-ca` is served by
 * writing leaf + chain to one private temporary file; `dispose` removes it.
 */
export function chainFile(files: TlsFiles): { readonly path: string; dispose(): void } {
  if (files.caFile === undefined) return { path: files.certFile, dispose: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'walker-hub-tls-'));
  const path = join(dir, 'chain.pem');
  const leaf = readFileSync(files.certFile, 'utf8');
  writeFileSync(path, `${leaf.trimEnd()}\n${readFileSync(files.caFile, 'utf8')}`, { mode: 0o600 });
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
