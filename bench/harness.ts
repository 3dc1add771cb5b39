/**
 * A small benchmark harness: runs a function in timed batches after a warm-up and reports the
 * median cost per operation. Each bench file exports `run(): Promise<BenchRow[]>`; `bench/run.ts`
 * runs them all and prints one table per file with ratios against the file's baseline row.
 */
import { performance } from 'node:perf_hooks';

export interface BenchRow {
  /** What was measured. */
  name: string;
  /** Median nanoseconds per operation. */
  nsPerOp: number;
  /** Operations per second at that median. */
  opsPerSec: number;
  /** Optional extra column (throughput and the like). */
  note?: string;
}

export interface MeasureOptions {
  /** Operations per timed batch (default 2,000). */
  batch?: number;
  /** Timed batches; the median is reported (default 15). */
  rounds?: number;
  /** Untimed warm-up operations (default 2,000). */
  warmup?: number;
}

/** Measures `fn` and returns its median cost. `fn` receives the iteration index. */
export function measure(
  name: string,
  fn: (i: number) => void,
  opts: MeasureOptions = {},
): BenchRow {
  const batch = opts.batch ?? 2_000;
  const rounds = opts.rounds ?? 15;
  const warmup = opts.warmup ?? 2_000;
  for (let i = 0; i < warmup; i++) fn(i);
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) fn(i);
    samples.push(((performance.now() - t0) * 1e6) / batch);
  }
  samples.sort((a, b) => a - b);
  const nsPerOp = samples[Math.floor(samples.length / 2)];
  return { name, nsPerOp, opsPerSec: 1e9 / nsPerOp };
}

/** Prints rows as a table with each row's cost relative to `baseline` (a row name). */
export function printTable(title: string, rows: BenchRow[], baseline?: string): void {
  const base = rows.find((r) => r.name === baseline) ?? rows[0];
  const width = Math.max(...rows.map((r) => r.name.length), 10);
  const out: string[] = [
    `\n## ${title}`,
    `${'case'.padEnd(width)}  ${'ns/op'.padStart(10)}  ${'ops/s'.padStart(12)}  ${'x base'.padStart(7)}  note`,
  ];
  for (const r of rows) {
    const ratio = r.nsPerOp / base.nsPerOp;
    out.push(
      `${r.name.padEnd(width)}  ${r.nsPerOp.toFixed(0).padStart(10)}  ${Math.round(r.opsPerSec).toLocaleString('en-US').padStart(12)}  ${ratio.toFixed(2).padStart(7)}  ${r.note ?? ''}`,
    );
  }
  out.push(`(baseline: ${base.name})`);
  process.stdout.write(`${out.join('\n')}\n`);
}
