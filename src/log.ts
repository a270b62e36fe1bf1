/**
 * The hub's logger: pino underneath, behind the small `Logger` interface the rest of the code (and
 * walkers, as `ctx.log`) uses. JSON lines for collectors, or readable text for people; secrets in
 * known fields are redacted before anything is written.
 */
import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import { prettyFactory } from 'pino-pretty';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
/** `auto` is JSON unless stderr is a terminal. */
export type LogFormat = 'auto' | 'text' | 'json';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /**
   * A logger whose lines also carry `bindings`. Cheap to create: nothing is built until it writes,
   * and bindings given as a function are asked for only then (a value costly to read, like a
   * request's client address, is read only for a request that logs).
   */
  child(bindings: Bindings): Logger;
}

export type Bindings = LogFields | (() => LogFields);

const resolveBindings = (b: Bindings): LogFields => (typeof b === 'function' ? b() : b);

/**
 * Field names whose values never reach the log: at the top level, one object down (`user.token`,
 * `headers.authorization`), and a request's headers two down (`req.headers.authorization`).
 */
const SECRET_KEYS = ['authorization', 'token', 'password', 'secret'];
export const REDACTED = '[redacted]';
const redactPaths = [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`), '*.headers.authorization'];

type WriteLevel = Exclude<LogLevel, 'silent'>;

class PinoLogger implements Logger {
  private built: Pino | null = null;

  /** `bindings` are applied lazily: a per-request child costs one small object until it logs. */
  constructor(
    private readonly root: Pino,
    private readonly bindings: Bindings | null,
  ) {}

  debug(msg: string, fields?: LogFields): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.write('error', msg, fields);
  }

  child(bindings: Bindings): Logger {
    const own = this.bindings;
    return new PinoLogger(this.root, own === null ? bindings : () => ({ ...resolveBindings(own), ...resolveBindings(bindings) }));
  }

  private write(level: WriteLevel, msg: string, fields: LogFields | undefined): void {
    if (!this.root.isLevelEnabled(level)) return;
    const target = (this.built ??= this.bindings === null ? this.root : this.root.child(resolveBindings(this.bindings)));
    if (fields === undefined) target[level](msg);
    else target[level](fields, msg);
  }
}

/**
 * A logger writing to stderr, or to `write` (one line at a time, without the newline). Writes are
 * synchronous and in-process (no worker thread), so nothing is lost when the process exits right
 * after logging, and start-up does not wait for a transport.
 */
export function createLogger(level: LogLevel, format: LogFormat = 'auto', write?: (line: string) => void): Logger {
  if (level === 'silent') return silentLogger;
  const text = format === 'text' || (format === 'auto' && process.stderr.isTTY === true);
  const destination: DestinationStream = text
    ? prettyDestination(write, write === undefined && process.stderr.isTTY === true)
    : write !== undefined
      ? { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) }
      : pino.destination({ dest: 2, sync: true });
  const root = pino(
    {
      level,
      redact: { paths: redactPaths, censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names rather than pino's numbers in JSON; pino-pretty reads the numbers itself.
      ...(text ? {} : { formatters: { level: (label: string) => ({ level: label }) } }),
    },
    destination,
  );
  return new PinoLogger(root, null);
}

/** Formats each JSON line as text in the calling thread (pino-pretty's formatter, not its transport). */
function prettyDestination(write: ((line: string) => void) | undefined, colorize: boolean): DestinationStream {
  const format = prettyFactory({ colorize, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname' });
  const out = write ?? ((line: string) => process.stderr.write(line + '\n'));
  return {
    write(line: string) {
      const pretty = format(line);
      out(pretty.endsWith('\n') ? pretty.slice(0, -1) : pretty);
    },
  };
}

/** Writes nothing; its children write nothing either. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
