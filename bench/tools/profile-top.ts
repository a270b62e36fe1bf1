/**
 * Prints the functions with the most self time in V8 CPU profiles (`--cpu-prof` output), e.g. of
 * the hub server child after `npm run bench -- --profile-hub`:
 *
 *   node --import tsx bench/tools/profile-top.ts bench/results/profiles/*.cpuprofile [--top=25]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  /** µs between consecutive samples. */
  timeDeltas: number[];
}

function top(file: string, count: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    // A sample's time is the gap to the next sample.
    const us = profile.timeDeltas[i + 1] ?? 0;
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    const where = frame.url ? `${relative(process.cwd(), frame.url.replace(/^file:\/\//, ''))}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'}  ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + us);
    total += us;
  });
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, count);
  return [
    `${file}: ${(total / 1e6).toFixed(2)} s sampled`,
    ...rows.map(([key, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`),
  ].join('\n');
}

const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const countArg = process.argv.find((a) => a.startsWith('--top='));
const count = countArg ? Number(countArg.slice('--top='.length)) : 25;
if (files.length === 0) {
  process.stderr.write('usage: node --import tsx bench/tools/profile-top.ts FILE.cpuprofile... [--top=25]\n');
  process.exitCode = 2;
}
for (const file of files) process.stdout.write(top(file, count) + '\n\n');
