/**
 * What the hub sees of a socket. The transport implements it; tests pass fakes. Every method is a
 * no-op once the socket has closed, so late walker output cannot touch a dead socket.
 */
export interface Connection {
  /** Sends one text frame, already encoded. */
  send(frame: string): void;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** Closes with a code and a short reason (at most 123 bytes). */
  end(code: number, reason: string): void;
}

/** Sends one encoded frame to every subscriber of a topic, on this node. */
export interface Publisher {
  publish(topic: string, frame: string): void;
}

/** uWS topic names: one per channel, and one every socket joins (broadcast). No channel topic can collide with it. */
export const topics = {
  channel: (id: string) => `c:${id}`,
  broadcast: 'b:*',
};
