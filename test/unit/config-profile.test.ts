import { describe, expect, it } from 'vitest';
import { loadConfig, protocolDefaults } from '../../src/config.js';

describe('config: wire profile defaults', () => {
  it('native by default, with the native limits', () => {
    expect(loadConfig([], {})).toMatchObject({ protocol: 'native', peerEvents: 'authenticated', maxPayloadBytes: 65536, walkerTimeoutMs: 30000 });
  });

  it('the jac-cloud profile brings its own defaults (flag or env)', () => {
    const expected = { protocol: 'jac-cloud', ...protocolDefaults['jac-cloud'] };
    expect(loadConfig(['--protocol', 'jac-cloud'], {})).toMatchObject(expected);
    expect(loadConfig([], { WALKER_HUB_PROTOCOL: 'jac-cloud' })).toMatchObject(expected);
    expect(expected).toMatchObject({ peerEvents: 'public', maxPayloadBytes: 16 * 1024 * 1024, walkerTimeoutMs: 3_600_000 });
  });

  it('a value the operator set wins over the profile default, even when it equals the native default', () => {
    const c = loadConfig(['--protocol=jac-cloud', '--max-payload', '65536', '--peer-events', 'authenticated'], { WALKER_HUB_WALKER_TIMEOUT: '30000' });
    expect(c).toMatchObject({ maxPayloadBytes: 65536, peerEvents: 'authenticated', walkerTimeoutMs: 30000 });
  });

  it('rejects an unknown profile, naming the flag', () => {
    expect(() => loadConfig(['--protocol', 'socketio'], {})).toThrow(/protocol \(--protocol \/ WALKER_HUB_PROTOCOL\)/);
  });
});
