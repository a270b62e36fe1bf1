/**
 * Another process's CPU time and resident memory, read from /proc (Linux only).
 */
import { readFileSync } from 'node:fs';

/** sysconf(_SC_CLK_TCK): 100 on every mainstream Linux build; /proc/<pid>/stat counts in these ticks. */
const CLK_TCK = 100;

/** User + system CPU seconds the process has used so far (10 ms resolution). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field 14 (utime) is fields[11] and field 15 (stime) fields[12].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unexpected /proc/${pid}/stat format`);
  return (utime + stime) / CLK_TCK;
}

/** VmRSS in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/**
 * CPU seconds the whole machine has spent busy (all cores; user, nice, system, irq, softirq),
 * from the first line of /proc/stat. Idle, iowait and steal (the hypervisor's) are not busy.
 */
export function systemBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [, user, nice, system, , , irq, softirq] = line.trim().split(/\s+/).map(Number);
  const busy = [user, nice, system, irq, softirq].reduce<number>((a, b) => a + (b ?? Number.NaN), 0);
  if (!Number.isFinite(busy)) throw new Error('unexpected /proc/stat format');
  return busy / CLK_TCK;
}
