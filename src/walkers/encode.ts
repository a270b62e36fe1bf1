/**
 * JSON encoding of what a walker produces (its result, `ctx.report`, `ctx.self`, `ctx.notify*`).
 * Each value is encoded once, at the call that produced it, inside the runner's error boundary:
 * a value `JSON.stringify` cannot encode (a BigInt, a cycle, nesting deeper than the stack, a
 * throwing `toJSON`, `undefined`) makes that call throw, instead of failing later in the transport.
 */

export class UnencodableError extends TypeError {
  constructor(where: string, reason: string) {
    super(`${where}: value cannot be encoded as JSON: ${reason}`);
    this.name = 'UnencodableError';
  }
}

export function encodeJson(where: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new UnencodableError(where, reasonOf(err));
  }
  // undefined, functions and symbols have no JSON form: stringify returns undefined for them.
  if (text === undefined) throw new UnencodableError(where, `${typeof value} is not a JSON value`);
  return text;
}

function reasonOf(err: unknown): string {
  if (err instanceof RangeError) return `${err.message} (nested too deeply)`;
  // A throwing toJSON may throw anything; only an Error's first line is shown.
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.message;
  return 'toJSON threw a non-Error value';
}
