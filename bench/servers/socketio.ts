/**
 * Socket.IO 4 on its WebSocket transport only. The room comes from the handshake query (?room=);
 * a 'channel' event {"channel_ids":[room],"data":...} is re-emitted to that room as 'msg'; a
 * 'walker' event is validated like the hub's bench_echo and answered through its ack.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { HOST, limits, serve } from './child.js';
import { isEcho } from './echo.js';

serve(async () => {
  const http = createServer();
  const io = new Server(http, {
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
    httpCompression: false,
    maxHttpBufferSize: limits.maxPayloadBytes,
  });
  io.on('connection', (socket) => {
    const room = socket.handshake.query['room'];
    if (typeof room === 'string' && room !== '') void socket.join(room);
    socket.on('channel', (frame: { channel_ids?: unknown; data?: unknown }) => {
      const target = Array.isArray(frame?.channel_ids) ? frame.channel_ids[0] : undefined;
      if (typeof target === 'string') io.to(target).emit('msg', frame.data);
    });
    // The walker-call scenario: the hub's bench_echo validation, answered through the ack.
    socket.on('walker', (frame: { context?: unknown }, ack: unknown) => {
      if (typeof ack !== 'function') return;
      const context = frame?.context;
      ack(isEcho(context) ? { status: 200, reports: [context] } : { status: 422, error: { code: 'invalid_input' } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, HOST, resolve);
  });
  const address = http.address();
  if (address === null || typeof address === 'string') throw new Error('unexpected server address');
  return { port: address.port, connections: () => io.engine.clientsCount, close: () => new Promise<void>((done) => io.close(() => done())) };
});
