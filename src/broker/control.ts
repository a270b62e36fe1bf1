/**
 * The broker's control topic, shared by several kinds of cluster messages (revocations, server
 * joins). Each message is `{"v":1,"type":T,...}`; it is parsed once here and handed to the one
 * handler registered for its type, after that handler's schema has checked it. Text that is not
 * such a message is logged once; a message of a known type that fails its schema is logged once per
 * type; a type no handler knows (a newer node's) is ignored.
 */
import { z } from 'zod';
import type { Broker } from './broker.js';
import type { Logger } from '../log.js';

const envelope = z.object({ v: z.literal(1), type: z.string() });

interface Route {
  readonly schema: z.ZodType;
  readonly handle: (message: unknown) => void;
  badLogged: boolean;
}

export class ControlRouter {
  private readonly routes = new Map<string, Route>();
  private unreadableLogged = false;

  constructor(
    private readonly broker: Pick<Broker, 'sendControl' | 'onControl'>,
    private readonly log: Logger,
  ) {
    broker.onControl((text) => this.receive(text));
  }

  /** Hands every message of `type` from another node that passes `schema` to `handle`. */
  on<S extends z.ZodType>(type: string, schema: S, handle: (message: z.output<S>) => void): void {
    this.routes.set(type, { schema, handle: handle as (message: unknown) => void, badLogged: false });
  }

  /** Sends a message of `type` to every other node. */
  send(type: string, body: Record<string, unknown>): void {
    this.broker.sendControl(JSON.stringify({ v: 1, type, ...body }));
  }

  private receive(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const head = envelope.safeParse(value);
    if (!head.success) {
      if (!this.unreadableLogged) this.log.warn('ignoring unreadable control messages from the broker', { sample: text.slice(0, 80) });
      this.unreadableLogged = true;
      return;
    }
    const route = this.routes.get(head.data.type);
    if (route === undefined) return;
    const parsed = route.schema.safeParse(value);
    if (parsed.success) return route.handle(parsed.data);
    if (!route.badLogged) this.log.warn(`ignoring unreadable "${head.data.type}" control messages from the broker`, { sample: text.slice(0, 80) });
    route.badLogged = true;
  }
}
