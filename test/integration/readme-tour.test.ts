/**
 * The README's five-minute tour, run word for word: the code blocks of its "A five-minute tour"
 * section are read from README.md, so the tour cannot drift from what the hub does. The hub is the
 * real command with the tour's exported variables, on port 0 (the tour's `127.0.0.1:8000` is
 * replaced by the port it announces), and a socket in `lobby` stands in for the demo page.
 * The shell steps need bash and curl: without curl the test skips loudly, or fails under
 * REQUIRE_SERVICES=1 (CI).
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, expect, it } from 'vitest';
import { announcedPort, HUB_BIN, killChildren, trackChild } from '../cli-process.js';
import { standaloneEnv, tempDir, TestClient } from '../helpers.js';

const REPO = resolve(import.meta.dirname, '../..');
const dir = tempDir('walker-hub-tour-');
afterEach(killChildren);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Block {
  readonly lang: string;
  readonly code: string;
}

/** The fenced code blocks of one `## ` section of the README, in order. */
function sectionBlocks(heading: string): Block[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, `README section "${heading}"`).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

const hasCurl = spawnSync('curl', ['--version']).error === undefined;
const REQUIRE_SERVICES = process.env['REQUIRE_SERVICES'] === '1';
if (!hasCurl && !REQUIRE_SERVICES) console.warn('SKIPPED: README tour test — curl is not installed');

it.runIf(hasCurl || REQUIRE_SERVICES)('the five-minute tour works as written: walker, token, REST, SDK and push all reach the lobby', async () => {
  if (!hasCurl) throw new Error('curl is required when REQUIRE_SERVICES=1 (apt-get install curl)');
  const blocks = sectionBlocks('A five-minute tour');
  const [start, ...rest] = blocks;
  // 1. The variables the tour exports before `npm start`.
  const exported = /^export (.+)$/m.exec(start!.code)?.[1];
  expect(exported, 'the first block exports the hub settings').toBeDefined();
  const vars = Object.fromEntries(exported!.split(/\s+/).map((pair) => pair.split('=') as [string, string]));
  expect(Object.keys(vars)).toEqual(['WALKER_HUB_JWT_SECRET', 'WALKER_HUB_API_KEY']);
  expect(start!.code).toContain('npm start');

  // 2. Files the tour asks to save, named by their first line (`// walkers/shout.ts`, `// tour.mjs`).
  const saved = rest.filter((b) => /^\/\/ [\w./-]+\n/.test(b.code));
  expect(saved.map((b) => b.code.split('\n')[0])).toEqual(['// walkers/shout.ts', '// tour.mjs']);
  mkdirSync(join(dir, 'walkers'));
  // tour.mjs imports `ws` and (in this repository, through tsx and tsconfig paths) `walker-hub/client`.
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  // The walker before the hub starts (walkers load at start); the client once the port is known.
  for (const b of saved.filter((b) => b.code.startsWith('// walkers/'))) writeFileSync(join(dir, b.code.split('\n')[0]!.slice(3)), b.code);

  const hub = trackChild(
    spawn(process.execPath, [HUB_BIN, '--port', '0', '--announce', 'true', '--walkers', join(dir, 'walkers'), '--data-dir', join(dir, 'data'), '--scrypt-cost', '10', '--log-level', 'warn'], {
      cwd: REPO,
      env: standaloneEnv(vars),
    }),
  );
  let stderr = '';
  hub.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await announcedPort(hub, () => stderr);
  const origin = `127.0.0.1:${port}`;
  for (const b of saved.filter((b) => !b.code.startsWith('// walkers/'))) writeFileSync(join(dir, b.code.split('\n')[0]!.slice(3)), b.code.replaceAll('127.0.0.1:8000', origin));

  // The demo page's part: a socket that joined `lobby`.
  const page = await TestClient.connect(`ws://${origin}/websocket?channel_id=lobby`);

  // 3-6. The shell steps in order, in one shell (TOKEN carries over), against this hub. The last
  // block (a hub in the background on port 8000) is the pattern for scripts, not a tour step.
  const shell = rest.filter((b) => b.lang === 'sh');
  const background = shell.pop();
  expect(background?.code).toContain('node bin/walker-hub.js &');
  expect(background?.code).toContain('/readyz');
  const script = ['set -euo pipefail', ...shell.map((b) => b.code.replaceAll('127.0.0.1:8000', origin)), ''].join('\n');
  const { stdout } = await promisify(execFile)('bash', ['-c', script], {
    cwd: dir,
    env: standaloneEnv({ ...vars, TSX_TSCONFIG_PATH: join(REPO, 'tsconfig.json') }),
    timeout: 30_000,
  });

  expect(stdout).toContain('"user":{');
  expect(stdout).toContain('{"status":200,"reports":[{"sent":"lobby"}]}');
  expect(stdout).toContain('chat: HELLO FROM THE SDK');
  expect(stdout).toContain("reports: [ { sent: 'lobby' } ]");
  // The SDK client has closed by then: the page's socket is the one connection in lobby.
  expect(stdout).toContain('{"status":202,"delivered":{"channels":1}}');

  const messages = [await page.next('chat'), await page.next('chat'), await page.next('chat')].map((f) => (f['data'] as { message: string }).message);
  expect(messages).toEqual(['HELLO FROM CURL', 'HELLO FROM THE SDK', 'hello from a backend']);
  await page.close();
  expect(existsSync(join(dir, 'data'))).toBe(true);
}, 60_000);
