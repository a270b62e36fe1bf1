/**
 * A plain `ws` server: Map<room, Set<socket>>; a published payload is encoded once into a Buffer
 * and the same bytes are sent to every member with a loop of `send`.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { HOST, limits, serve } from './child.js';

serve(async () => {
  const rooms = new Map<string, Set<WebSocket>>();
  const wss = new WebSocketServer({ host: HOST, port: 0, perMessageDeflate: false, maxPayload: limits.maxPayloadBytes, clientTracking: true });
  wss.on('connection', (ws, req) => {
    const room = new URL(req.url ?? '/', 'http://x').searchParams.get('channel_id');
    if (room) {
      let members = rooms.get(room);
      if (!members) rooms.set(room, (members = new Set()));
      members.add(ws);
      ws.on('close', () => {
        members.delete(ws);
        if (members.size === 0) rooms.delete(room);
      });
    }
    ws.on('message', (raw, isBinary) => {
      if (isBinary) return;
      const frame = JSON.parse(raw.toString()) as { channel_ids?: unknown; data?: unknown };
      const target = Array.isArray(frame.channel_ids) ? frame.channel_ids[0] : undefined;
      const members = typeof target === 'string' ? rooms.get(target) : undefined;
      if (!members) return;
      const bytes = Buffer.from(JSON.stringify(frame.data));
      for (const member of members) member.send(bytes, { binary: false });
    });
    ws.on('error', () => ws.terminate());
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const address = wss.address();
  if (address === null || typeof address === 'string') throw new Error('unexpected server address');
  return { port: address.port, connections: () => wss.clients.size, close: () => new Promise<void>((done) => wss.close(() => done())) };
});
