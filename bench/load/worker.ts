/**
 * A load process: holds at most one job at a time and runs the orchestrator's commands on it.
 * It exits when the orchestrator goes away (IPC closed) or sends SIGTERM.
 */
import type { LoadCommand, LoadReport } from '../lib/messages.js';
import { ChannelJob } from './channel-job.js';
import { ChatJob } from './chat-job.js';
import { IdleJob } from './idle-job.js';

type Job = ChannelJob | ChatJob | IdleJob;

let job: Job | null = null;

function report(message: LoadReport): void {
  process.send?.(message);
}

function fail(err: unknown): void {
  report({ type: 'error', message: err instanceof Error ? err.message : String(err) });
}

function current<T extends Job>(kind: new (...args: never[]) => T): T {
  if (!(job instanceof kind)) throw new Error(`command needs a ${kind.name}, this worker holds ${job?.constructor.name ?? 'nothing'}`);
  return job;
}

async function handle(command: LoadCommand): Promise<void> {
  switch (command.type) {
    case 'setup': {
      job?.teardown();
      const spec = command.job;
      job = spec.kind === 'channel' ? new ChannelJob(spec, report) : spec.kind === 'chat' ? new ChatJob(spec, report) : new IdleJob(spec, report);
      return report(await job.setup());
    }
    case 'publisher':
      return report(await current(ChannelJob).addPublisher());
    case 'phase':
      return current(ChannelJob).startPhase(command.msgs, command.pacing, command.timeoutMs, command.skipSeqBelow);
    case 'chat':
      return current(ChatJob).run(command.durationMs);
    case 'teardown':
      job?.teardown();
      job = null;
      return report({ type: 'closed' });
  }
}

process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.on('message', (raw) => {
  handle(raw as LoadCommand).catch(fail);
});
report({ type: 'hello' });
