import { defineWalker, z } from 'walker-hub';
import { runProgress } from './_progress.js';

/** Streams progress notifications to one connection (jac-cloud's client_progress_notif). */
export default defineWalker({
  input: z.object({
    client_id: z.string().min(1),
    /** Pause between steps, ms (0 = as fast as possible). */
    delay_ms: z.number().int().min(0).max(5000).default(0),
  }),
  methods: ['websocket', 'post'],
  run: (ctx, input) => runProgress(ctx, (data) => ctx.notifyClients([input.client_id], data), input.delay_ms),
});
