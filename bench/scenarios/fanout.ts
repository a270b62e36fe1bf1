/**
 * Channel fanout: one publisher and N subscribers in one room (the publisher among them). The
 * publisher keeps a small window of messages in flight (it counts its own echoes), so no server
 * is overrun; whatever arrives together, a server may coalesce. A warm-up
 * phase also sizes the measured run: a fixed message count that lasts about `targetSec` on this
 * server, topped up by further phases when it ends early (so it lasts at least `targetSec`). Every delivery is counted; the run lasts from the first send to the last frame received.
 */
import type { ServerKind } from '../lib/messages.js';
import { errorText, type FanoutResult } from '../lib/results.js';
import { deliveryFigures, measuredPhases, messagesFor, openRoom, ROOM, runPhase, totals } from './channel.js';
import { openCpuWindow, otherCpu, withServer, type Ctx, type Server } from './harness.js';

/** `room`: the fanout's (the presence-fanout scenario passes a channel of a presence namespace). */
export async function fanout(ctx: Ctx, kind: ServerKind, launched: Promise<Server>, subscribers: number, room = ROOM): Promise<FanoutResult> {
  const p = ctx.params.fanout;
  const warm = Math.max(10, Math.ceil(p.warmDeliveries / subscribers));
  const pacing = { mode: 'window', window: p.window, burst: p.burst } as const;
  const base = { server: kind, subscribers, window: p.window, burst: p.burst };
  try {
    return await withServer(ctx, launched, async (server) => {
      await openRoom(ctx, server, subscribers, 0, room);
      const warmed = totals(await runPhase(ctx, warm, pacing, p.timeoutMs));
      const rate = warmed.received / warmed.seconds;
      const sizing = { subscribers, minDeliveries: p.minDeliveries, maxDeliveries: p.maxDeliveries };
      const first = messagesFor(sizing, rate, p.targetSec);
      ctx.log(`    ${subscribers} subscribers; warm-up ${warm} messages at ${Math.round(rate).toLocaleString('en-US')} deliveries/s; measuring ${first} (window ${p.window})`);
      const stop = await openCpuWindow(ctx, server, `fanout-n${subscribers}-${kind}${room === ROOM ? '' : `-${room.replace(/\W/g, '_')}`}`);
      const { msgs, t } = await measuredPhases(ctx, sizing, first, p.targetSec, pacing, p.timeoutMs);
      const cpu = await stop();
      return {
        ...base,
        ...deliveryFigures(msgs, subscribers, t),
        incompleteSockets: t.incompleteSockets,
        msgsPerSec: msgs / t.seconds,
        serverCpuSec: cpu.serverCpuSec,
        serverCpuUsPerDelivery: (cpu.serverCpuSec * 1e6) / t.received,
        loadCpuSec: t.loadCpuSec,
        otherCpuSec: otherCpu(cpu, t.loadCpuSec),
      };
    });
  } catch (err) {
    const nan = Number.NaN;
    return {
      ...base,
      error: errorText(err),
      msgs: nan,
      expected: nan,
      received: nan,
      deliveredShare: nan,
      incompleteSockets: nan,
      seconds: nan,
      deliveriesPerSec: nan,
      msgsPerSec: nan,
      serverCpuSec: nan,
      serverCpuUsPerDelivery: nan,
      loadCpuSec: [],
      otherCpuSec: nan,
    };
  }
}
