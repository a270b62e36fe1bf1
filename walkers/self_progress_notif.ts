import { defineWalker, z } from 'walker-hub';
import { runProgress } from './_progress.js';

/** Streams progress notifications to the calling socket (a no-op over REST) (jac-cloud's self_progress_notif). */
export default defineWalker({
  input: z.object({
    /** Pause between steps, ms (0 = as fast as possible). */
    delay_ms: z.number().int().min(0).max(5000).default(0),
  }),
  methods: ['websocket', 'post'],
  run: (ctx, input) => runProgress(ctx, (data) => ctx.self(data), input.delay_ms),
});
