/**
 * The ceiling: raw uWebSockets.js with the least work that still does the same job. A socket joins
 * the room in ?channel_id; a {"channel_ids":[room],"data":...} frame is published to that room as
 * JSON.stringify(data) (encoded once, like the hub); POST /echo and {"type":"walker",...} frames
 * validate by hand and report back. With `--tls-cert`/`--tls-key` it is an SSLApp (https, wss).
 */
import uWS from 'uWebSockets.js';
import { HOST, limits, serve } from './child.js';
import { isEcho } from './echo.js';

/** A walker frame's reply as the hub writes it (`uid` echoed when the call carried one). */
function walkerReply(walker: unknown, context: unknown, uid: unknown): string {
  const name = JSON.stringify(typeof walker === 'string' ? walker : '');
  const tail = typeof uid === 'string' ? `,"uid":${JSON.stringify(uid)}` : '';
  if (!isEcho(context)) return `{"type":"walker","walker":${name},"status":422,"error":{"code":"invalid_input"}${tail}}`;
  return `{"type":"walker","walker":${name},"status":200,"reports":[${JSON.stringify(context)}]${tail}}`;
}

/** `--tls-cert=FILE --tls-key=FILE`: serve https (an SSLApp), as the hub does with its --tls-* flags. */
const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const tlsCert = flag('tls-cert');
const tlsKey = flag('tls-key');

serve(async () => {
  const app = tlsCert !== undefined && tlsKey !== undefined ? uWS.SSLApp({ cert_file_name: tlsCert, key_file_name: tlsKey }) : uWS.App();
  let open = 0;
  app.ws<{ room: string }>('/*', {
    compression: uWS.DISABLED,
    maxPayloadLength: limits.maxPayloadBytes,
    maxBackpressure: limits.maxBackpressureBytes,
    closeOnBackpressureLimit: true,
    idleTimeout: limits.idleTimeoutSec,
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => {
      res.upgrade({ room: req.getQuery('channel_id') ?? '' }, req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    },
    open: (ws) => {
      open++;
      const room = ws.getUserData().room;
      if (room !== '') ws.subscribe(room);
    },
    message: (ws, message) => {
      const frame = JSON.parse(Buffer.from(message).toString('utf8')) as { type?: unknown; channel_ids?: unknown; data?: unknown; walker?: unknown; context?: unknown; uid?: unknown };
      // The walker-call scenario: the same validation as the hub's bench_echo walker, and its reply.
      if (frame.type === 'walker') return void ws.send(walkerReply(frame.walker, frame.context, frame.uid));
      const room = Array.isArray(frame.channel_ids) ? frame.channel_ids[0] : undefined;
      if (typeof room === 'string') app.publish(room, JSON.stringify(frame.data));
    },
    close: () => void open--,
  });
  app.post('/echo', (res) => {
    res.onAborted(() => undefined);
    const chunks: Buffer[] = [];
    res.onData((chunk, isLast) => {
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast) return;
      let input: unknown;
      try { input = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { input = null; }
      const ok = isEcho(input);
      res.writeStatus(ok ? '200 OK' : '422 Unprocessable Entity').writeHeader('Content-Type', 'application/json')
        .end(JSON.stringify(ok ? { status: 200, reports: [input] } : { status: 422, error: { code: 'invalid_input' } }));
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    app.listen(HOST, 0, (socket) => (socket ? resolve(uWS.us_socket_local_port(socket as unknown as uWS.us_socket)) : reject(new Error('listen failed'))));
  });
  return { port, connections: () => open, close: () => void app.close() };
});
