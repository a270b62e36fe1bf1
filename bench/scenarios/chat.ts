/**
 * Chat: many small rooms, every member sending. Each room lives wholly inside one load process,
 * which bounds its own outstanding messages. Runs for a fixed time after a short warm-up;
 * deliveries are frames received during each process's window.
 */
import type { LoadReport, ServerKind } from '../lib/messages.js';
import { errorText, type ChatResult } from '../lib/results.js';
import { ofType, openCpuWindow, otherCpu, withServer, type Ctx, type Server } from './harness.js';

type ChatDone = Extract<LoadReport, { type: 'chatDone' }>;

async function chatPhase(ctx: Ctx, durationMs: number): Promise<ChatDone[]> {
  const { pool } = ctx;
  for (let i = 0; i < pool.size; i++) pool.worker(i).send({ type: 'chat', durationMs });
  return Promise.all(Array.from({ length: pool.size }, (_, i) => pool.worker(i).next(ofType<LoadReport, 'chatDone'>('chatDone'), durationMs + 30_000, 'chat report')));
}

export async function chat(ctx: Ctx, kind: ServerKind, launched: Promise<Server>): Promise<ChatResult> {
  const p = ctx.params.chat;
  const base = { server: kind, rooms: p.rooms, members: p.members };
  try {
    return await withServer(ctx, launched, async (server) => {
      const endpoint = { kind, port: server.port };
      const { pool } = ctx;
      const roomsOf: string[][] = Array.from({ length: pool.size }, () => []);
      for (let r = 0; r < p.rooms; r++) roomsOf[r % pool.size]?.push(`room-${r}`);
      await pool.setup(
        roomsOf.map((rooms) => ({
          kind: 'chat' as const,
          endpoint,
          rooms,
          members: p.members,
          concurrency: ctx.params.fanout.concurrency,
          inflightMsgs: rooms.length * p.inflightPerRoom,
        })),
        120_000,
      );
      ctx.log(`    ${p.rooms * p.members} members connected; ${p.warmSec} s warm-up, then ${p.durationSec} s`);
      await chatPhase(ctx, p.warmSec * 1000);
      const stop = await openCpuWindow(ctx, server, `chat-${kind}`);
      const reports = await chatPhase(ctx, p.durationSec * 1000);
      const cpu = await stop();
      const loadCpuSec = reports.map((r) => (r.cpu.user + r.cpu.system) / 1e6);
      const deliveries = reports.reduce((a, r) => a + r.received, 0);
      const seconds = Math.max(...reports.map((r) => r.endedAt)) - Math.min(...reports.map((r) => r.startedAt));
      return {
        ...base,
        seconds: seconds / 1000,
        msgsSent: reports.reduce((a, r) => a + r.sent, 0),
        deliveries,
        deliveriesPerSec: deliveries / (seconds / 1000),
        serverCpuSec: cpu.serverCpuSec,
        serverCpuUsPerDelivery: (cpu.serverCpuSec * 1e6) / deliveries,
        loadCpuSec,
        otherCpuSec: otherCpu(cpu, loadCpuSec),
      };
    });
  } catch (err) {
    const nan = Number.NaN;
    return { ...base, error: errorText(err), seconds: nan, msgsSent: nan, deliveries: nan, deliveriesPerSec: nan, serverCpuSec: nan, serverCpuUsPerDelivery: nan, loadCpuSec: [], otherCpuSec: nan };
  }
}
