/** Upgrade admission: Origin list and connection caps, socket-free. */
import { describe, expect, it } from 'vitest';
import { Admission } from '../../src/transport/admission.js';

describe('Admission', () => {
  it('caps connections globally and per IP, and frees a slot on close', () => {
    const a = new Admission({ maxConnections: 3, maxConnectionsPerIp: 2, allowedOrigins: [] });
    expect(a.refuse('10.0.0.1', '')).toBeNull();
    a.opened('10.0.0.1');
    a.opened('10.0.0.1');
    expect(a.refuse('10.0.0.1', '')?.code).toBe('too_many_connections');
    expect(a.refuse('10.0.0.2', '')).toBeNull();
    a.opened('10.0.0.2');
    expect(a.refuse('10.0.0.3', '')?.code).toBe('server_full');
    a.closed('10.0.0.1');
    expect(a.connections).toBe(2);
    expect(a.refuse('10.0.0.1', '')).toBeNull();
  });

  it('0 means no cap', () => {
    const a = new Admission({ maxConnections: 0, maxConnectionsPerIp: 0, allowedOrigins: [] });
    for (let i = 0; i < 10_000; i++) a.opened('10.0.0.1');
    expect(a.refuse('10.0.0.1', '')).toBeNull();
  });

  it('refuses a present, unlisted Origin; lets in listed ones and requests without Origin', () => {
    const a = new Admission({ maxConnections: 0, maxConnectionsPerIp: 0, allowedOrigins: ['https://app.example'] });
    expect(a.refuse('10.0.0.1', 'https://evil.example')?.code).toBe('origin_not_allowed');
    expect(a.refuse('10.0.0.1', 'https://app.example')).toBeNull();
    expect(a.refuse('10.0.0.1', '')).toBeNull();
    const open = new Admission({ maxConnections: 0, maxConnectionsPerIp: 0, allowedOrigins: [] });
    expect(open.refuse('10.0.0.1', 'https://evil.example')).toBeNull();
  });

  it('forgets an address once its last connection closes', () => {
    const a = new Admission({ maxConnections: 0, maxConnectionsPerIp: 1, allowedOrigins: [] });
    for (let i = 0; i < 1000; i++) {
      a.opened(`10.0.${i >> 8}.${i & 255}`);
      a.closed(`10.0.${i >> 8}.${i & 255}`);
    }
    expect(a.connections).toBe(0);
    expect(a.addresses).toBe(0);
  });
});
