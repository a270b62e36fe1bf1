/** The port a hub started with `--announce` (WALKER_HUB_ANNOUNCE=1) prints as its first stdout line. */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export async function announcedPort(stdout: Readable): Promise<number> {
  for await (const line of createInterface({ input: stdout })) return (JSON.parse(line as string) as { port: number }).port;
  throw new Error('the hub exited before announcing its port');
}
