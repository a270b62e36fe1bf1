/** The pino-backed logger: line formats, levels, child bindings and redaction of secrets. */
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED, silentLogger, type LogFormat, type LogLevel } from '../../src/log.js';

function capture(level: LogLevel = 'debug', format: LogFormat = 'json') {
  const lines: string[] = [];
  const log = createLogger(level, format, (line) => lines.push(line));
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logger', () => {
  it('writes one JSON object per line with an ISO time, the level name, the message and the fields', () => {
    const { log, lines, parsed } = capture();
    log.info('hello', { walker: 'echo', n: 3 });
    log.error('no fields');
    expect(lines).toHaveLength(2);
    expect(parsed()[0]).toMatchObject({ level: 'info', msg: 'hello', walker: 'echo', n: 3, time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
    expect(parsed()[1]).toMatchObject({ level: 'error', msg: 'no fields' });
  });

  it('drops lines below the configured level, and writes nothing when silent', () => {
    const { log, parsed } = capture('warn');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(parsed().map((l) => l['msg'])).toEqual(['w', 'e']);
    expect(createLogger('silent')).toBe(silentLogger);
    expect(silentLogger.child({ a: 1 })).toBe(silentLogger);
  });

  it('adds child bindings to every line of the child (nested children merge them), not to the parent', () => {
    const { log, parsed } = capture();
    const conn = log.child({ client_id: 'c1' });
    const call = conn.child({ walker: 'w' });
    conn.warn('from conn');
    call.error('from call', { extra: true });
    log.info('from root');
    const [a, b, c] = parsed();
    expect(a).toMatchObject({ msg: 'from conn', client_id: 'c1' });
    expect(b).toMatchObject({ msg: 'from call', client_id: 'c1', walker: 'w', extra: true });
    expect(c).not.toHaveProperty('client_id');
  });

  it('redacts authorization, token, password and secret fields, at the top level, one level down and in request headers', () => {
    const { log, lines, parsed } = capture();
    const secrets = ['Bearer top-secret-1', 'tok-secret-2', 'pw-secret-3', 'hdr-secret-4', 'nested-tok-5', 'nested-pw-6', 'jwt-secret-7', 'req-hdr-secret-8'];
    log.warn('login failed', {
      authorization: secrets[0],
      token: secrets[1],
      password: secrets[2],
      headers: { authorization: secrets[3], 'content-type': 'application/json' },
      user: { email: 'a@example.com', token: secrets[4], password: secrets[5] },
      config: { secret: secrets[6] },
      req: { url: '/user/login', headers: { authorization: secrets[7] } },
    });
    for (const s of secrets) expect(lines[0]).not.toContain(s);
    expect(parsed()[0]).toMatchObject({
      authorization: REDACTED,
      token: REDACTED,
      password: REDACTED,
      headers: { authorization: REDACTED, 'content-type': 'application/json' },
      user: { email: 'a@example.com', token: REDACTED, password: REDACTED },
      config: { secret: REDACTED },
      req: { url: '/user/login', headers: { authorization: REDACTED } },
    });
  });

  it('leaves the logged object untouched (redaction applies to the line only)', () => {
    const { log } = capture();
    const fields = { token: 'keep-me', nested: { password: 'me-too' } };
    log.info('x', fields);
    expect(fields).toEqual({ token: 'keep-me', nested: { password: 'me-too' } });
  });

  it('writes readable text lines with --log-format text, redacted the same way', () => {
    const { log, lines } = capture('info', 'text');
    log.child({ request_id: 'r1' }).warn('walker threw', { walker: 'boom', token: 'tok-secret' });
    expect(lines).toHaveLength(1);
    const [first, ...rest] = (lines[0] as string).split('\n');
    expect(first).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] WARN: walker threw$/);
    expect(rest.join('\n')).toContain('request_id: "r1"');
    expect(rest.join('\n')).toContain('walker: "boom"');
    expect(lines[0]).not.toContain('tok-secret');
    expect(lines[0]).toContain(REDACTED);
  });
});
