/**
 * What differs between the servers on the wire, as the raw client sees it: the upgrade path, the
 * frames exchanged before a socket is ready, how a payload is published, and (Socket.IO only)
 * protocol chatter among short frames.
 */
import type { ServerKind } from '../lib/messages.js';

export interface Dialect {
  /** Upgrade path; `room` null for an idle connection in no room (the hub then picks a random channel). */
  path(room: string | null): string;
  /** Frames handled (decoded) before the socket counts as ready; zero when ready right after the 101. */
  readonly handshakeFrames: boolean;
  /** One decoded pre-ready frame; `send` replies. Returns true once the socket is ready. Throws on refusal. */
  handshake(text: string, send: (text: string) => void): boolean;
  /** The text frame that publishes `payload` (JSON text) to `room`. */
  publish(room: string, payload: string): string;
  /**
   * Only when defined are data frames shorter than 8 bytes decoded: returns the reply to send for
   * protocol chatter (an empty string: chatter without reply), or null for a real message.
   */
  chatter?(first: number, length: number): string | null;
}

const channelFrame = (room: string, payload: string) => `{"type":"channel","channel_ids":[${JSON.stringify(room)}],"data":${payload}}`;

const hub: Dialect = {
  path: (room) => (room === null ? '/websocket' : `/websocket?channel_id=${encodeURIComponent(room)}`),
  handshakeFrames: true,
  handshake(text) {
    // The hub's first frame is {"type":"connection",...}: the socket is in its channel by then.
    if (text.startsWith('{"type":"connection"')) return true;
    throw new Error(`unexpected first frame from the hub: ${text.slice(0, 120)}`);
  },
  publish: channelFrame,
};

const plain: Dialect = {
  path: (room) => (room === null ? '/ws' : `/ws?channel_id=${encodeURIComponent(room)}`),
  handshakeFrames: false,
  handshake: () => true,
  publish: channelFrame,
};

const CHAR_2 = 0x32;

/** engine.io v4 + socket.io v5 packets over a bare WebSocket. */
const socketio: Dialect = {
  path: (room) => `/socket.io/?EIO=4&transport=websocket${room === null ? '' : `&room=${encodeURIComponent(room)}`}`,
  handshakeFrames: true,
  handshake(text, send) {
    if (text.startsWith('0{')) {
      send('40'); // engine.io open received: connect to the main namespace
      return false;
    }
    if (text.startsWith('40')) return true;
    if (text === '2') {
      send('3');
      return false;
    }
    throw new Error(`unexpected Socket.IO handshake packet: ${text.slice(0, 120)}`);
  },
  publish: (room, payload) => `42["channel",${channelFrame(room, payload)}]`,
  // Events are `42[...]` (never short); `2` is a ping, answered with `3`; `3`/`6` need nothing.
  chatter: (first, length) => (length === 1 ? (first === CHAR_2 ? '3' : '') : null),
};

export const dialects: Record<ServerKind, Dialect> = { hub, uws: plain, ws: plain, socketio };
