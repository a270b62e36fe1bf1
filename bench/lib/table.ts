/** Plain-text tables and the number formats they use. Every missing or failed figure prints as "—". */

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  // Columns of numbers are right-aligned, any other column left-aligned.
  const numeric = headers.map((_, i) => rows.every((r) => /^(—|[-+]?[\d.,]+(%| KB| ms)?)$/.test(r[i] ?? '—')));
  const line = (cells: readonly string[]) =>
    '| ' + cells.map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => (numeric[i] ? '-' : ':') + '-'.repeat(w) + (numeric[i] ? ':' : '-')).join('|') + '|';
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

const missing = (n: number) => !Number.isFinite(n);

/** 1234567 -> "1,234,567" */
export function int(n: number): string {
  return missing(n) ? '—' : Math.round(n).toLocaleString('en-US');
}

export function fixed(n: number, digits: number): string {
  return missing(n) ? '—' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function percent(share: number, digits = 1): string {
  if (missing(share)) return '—';
  // 100% only when exactly every message arrived; 99.99...% never rounds up to it.
  if (share === 1) return '100%';
  const scale = 10 ** digits;
  return `${(Math.floor(share * 100 * scale) / scale).toFixed(digits)}%`;
}

export function mb(bytes: number): string {
  return missing(bytes) ? '—' : fixed(bytes / 1024 / 1024, 1);
}

/** Per-process CPU seconds, e.g. "1.21+1.18+1.30". */
export function cpuList(seconds: readonly number[]): string {
  return seconds.length === 0 ? '—' : seconds.map((s) => s.toFixed(2)).join('+');
}
