/**
 * Channel namespaces (`--channels FILE`): who may join and publish, user-limited channels, unknown
 * namespaces, refusals that are whole (nothing joined) and 403 at the upgrade for `?channel_id=`;
 * without a file everything behaves as before. Real hubs, real sockets.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseChannelsFile } from '../../src/channels/load.js';
import type { ChannelsFileInput } from '../../src/channels/schema.js';
import { ConfigError } from '../../src/config.js';
import { createHub } from '../../src/node.js';
import { parseConfig } from '../../src/config.js';
import { HUB_BIN, killChildren, trackChild } from '../cli-process.js';
import { closeClients, connect, EXAMPLE_WALKERS, refusedUpgrade, signToken, standaloneEnv, startHub, stopAll, tempDir, TEST_SECRET, type TestClient } from '../helpers.js';

afterEach(closeClients);
afterAll(async () => {
  await stopAll();
  await killChildren();
});

const file: ChannelsFileInput = {
  namespaces: {
    private: { subscribe: 'authenticated' },
    ro: { publish: 'none' },
    members: { publish: 'subscribers' },
    open: { publish: 'public' },
    dm: { user_limited: true },
    feed: { subscribe: 'none' },
  },
};

async function hubWith(channels: ChannelsFileInput | undefined, options: Record<string, unknown> = {}) {
  const path = join(tempDir(), 'channels.json');
  if (channels !== undefined) writeFileSync(path, JSON.stringify(channels));
  return startHub({ peerEvents: 'authenticated', ...(channels !== undefined ? { channelsFile: path } : {}), ...options });
}

const subscribe = (c: TestClient, ids: string[]) => c.request({ type: 'subscribe', channel_ids: ids });

describe('namespaces with permissions', () => {
  it('subscribe: public, authenticated and none; a refusal names the channel and joins nothing', async () => {
    const hub = await hubWith(file);
    const anon = await connect(hub);
    const { token } = await signToken();
    const user = await connect(hub, { token });

    expect(await subscribe(anon, ['lobby', 'chat:1'])).toMatchObject({ type: 'subscribed' });
    const refused = await subscribe(anon, ['lobby-2', 'private:room']);
    expect(refused).toMatchObject({ type: 'error', error: { code: 'forbidden', message: expect.stringContaining('"private:room" requires an authenticated connection') } });
    // Refused whole: lobby-2 was not joined either.
    const now = await anon.request({ type: 'unsubscribe', channel_ids: ['none-such'] });
    expect(now['channel_ids']).not.toContain('lobby-2');
    expect(now['channel_ids']).toEqual(expect.arrayContaining(['lobby', 'chat:1']));

    expect(await subscribe(user, ['private:room'])).toMatchObject({ type: 'subscribed' });
    expect(await subscribe(user, ['feed:news'])).toMatchObject({ type: 'error', error: { code: 'forbidden', message: expect.stringContaining('"feed:news" is joined by the server only') } });
  });

  it('user-limited channels admit only the roots they name', async () => {
    const hub = await hubWith(file);
    const alice = await signToken();
    const bob = await signToken();
    const eve = await signToken();
    const channel = `dm:#${alice.rootId},${bob.rootId}`;
    const a = await connect(hub, { token: alice.token });
    const b = await connect(hub, { token: bob.token });
    const e = await connect(hub, { token: eve.token });
    expect(await subscribe(a, [channel])).toMatchObject({ type: 'subscribed' });
    expect(await subscribe(b, [channel])).toMatchObject({ type: 'subscribed' });
    expect(await subscribe(e, [channel])).toMatchObject({ type: 'error', error: { code: 'forbidden', message: expect.stringContaining('limited to the users it names') } });
    // Without "#", a user-limited namespace's channel follows its other rules.
    expect(await subscribe(e, ['dm:general'])).toMatchObject({ type: 'subscribed' });
  });

  it('publish: none, subscribers, public (over peerEvents), and peerEvents where the namespace sets nothing', async () => {
    const hub = await hubWith(file);
    const anon = await connect(hub);
    const { token } = await signToken();
    const member = await connect(hub, { token });
    const outsider = await connect(hub, { token: (await signToken()).token });
    await subscribe(member, ['members:x', 'ro:x', 'open:x']);

    const send = (c: TestClient, channel: string) => c.request({ type: 'channel', channel_ids: [channel], data: { to: channel } });
    expect(await send(member, 'ro:x')).toMatchObject({ type: 'error', error: { code: 'forbidden', message: expect.stringContaining('closed to clients') } });
    expect(await send(outsider, 'members:x')).toMatchObject({ type: 'error', error: { code: 'forbidden', message: expect.stringContaining('members only') } });
    expect(await send(member, 'members:x')).toMatchObject({ type: 'ack' });
    expect(await member.next((f) => f['to'] === 'members:x')).toEqual({ to: 'members:x' });
    // `open` is public even though peerEvents is authenticated.
    expect(await send(anon, 'open:x')).toMatchObject({ type: 'ack' });
    expect(await member.next((f) => f['to'] === 'open:x')).toEqual({ to: 'open:x' });
    // No rule in the namespace: peerEvents (authenticated) decides, with its own message.
    expect(await send(anon, 'chat:x')).toMatchObject({ type: 'error', error: { code: 'forbidden', message: 'Peer events require an authenticated connection' } });
    // One forbidden channel refuses the whole frame: nothing is sent to the others.
    expect(await anon.request({ type: 'channel', channel_ids: ['open:x', 'ro:x'], data: { to: 'both' } })).toMatchObject({ type: 'error' });
    await member.sync();
    expect(member.pending().filter((f) => f['to'] === 'both')).toEqual([]);
  });

  it('?channel_id= follows the same rules: 403 forbidden at the upgrade', async () => {
    const hub = await hubWith(file);
    const refused = await refusedUpgrade(hub, { query: `?channel_id=${encodeURIComponent('private:room')}` });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    const { token } = await signToken();
    const ok = await connect(hub, { token, query: `?channel_id=${encodeURIComponent('private:room')}` });
    expect(ok.info.channel_id).toBe('private:room');
    expect((await refusedUpgrade(hub, { query: '?channel_id=feed:x', token })).status).toBe(403);
  });

  it('unknown_namespaces: deny refuses channels of namespaces the file does not list; allow treats them as the default', async () => {
    const deny = await hubWith({ ...file, unknown_namespaces: 'deny' });
    const c = await connect(deny);
    expect(await subscribe(c, ['nowhere:1'])).toMatchObject({ type: 'error', error: { code: 'forbidden', message: expect.stringContaining('namespace this hub does not know') } });
    expect(await subscribe(c, ['plain'])).toMatchObject({ type: 'subscribed' });
    const allow = await hubWith(file);
    expect(await subscribe(await connect(allow), ['nowhere:1'])).toMatchObject({ type: 'subscribed' });
  });

  it('the default namespace can be configured; without a file nothing changes', async () => {
    const strict = await hubWith({ default: { subscribe: 'authenticated' } });
    expect(await subscribe(await connect(strict), ['lobby'])).toMatchObject({ type: 'error', error: { code: 'forbidden' } });
    const plain = await hubWith(undefined);
    const anon = await connect(plain);
    expect(await subscribe(anon, ['lobby', 'private:x', 'feed:x'])).toMatchObject({ type: 'subscribed' });
  });
});

describe('the channels file is checked at start', () => {
  it('reports every problem at once', () => {
    let error: unknown;
    try {
      parseChannelsFile(
        { namespaces: { 'bad:name': {}, chat: { subscribe: 'everyone', presence: 3, subscribe_walker: 'nope' }, ok: { subscribe_walker: 'missing_walker' } }, extra: 1 },
        new Map([['echo', { methods: new Set(['websocket']) }]]),
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/bad:name/);
    expect(problems).toMatch(/namespaces\.chat\.subscribe/);
    expect(problems).toMatch(/namespaces\.chat\.presence/);
    expect(problems).toMatch(/extra/);
  });

  it('names a subscribe_walker that is not loaded', () => {
    expect(() => parseChannelsFile({ namespaces: { chat: { subscribe_walker: 'missing_walker' } } }, new Map([['echo', { methods: new Set(['websocket']) }]]))).toThrow(/no walker named "missing_walker"/);
  });

  it('createHub refuses a bad file with a ConfigError', async () => {
    const path = join(tempDir(), 'channels.json');
    writeFileSync(path, '{"namespaces": {"chat": {"publish": "all"}}}');
    const config = parseConfig({ port: 0, jwtSecret: TEST_SECRET, walkersDir: EXAMPLE_WALKERS, dataDir: tempDir(), logLevel: 'silent', channelsFile: path });
    await expect(createHub({ config })).rejects.toBeInstanceOf(ConfigError);
  });

  it('the command exits with status 2 listing the problems', async () => {
    const path = join(tempDir(), 'channels.json');
    writeFileSync(path, '{"namespaces": {"chat": {"publish": "all", "join_leave": "yes"}}}');
    const child = trackChild(spawn(process.execPath, [HUB_BIN, '--port', '0', '--channels', path], { env: standaloneEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('namespaces.chat.publish');
    expect(stderr).toContain('namespaces.chat.join_leave');
  });
});
