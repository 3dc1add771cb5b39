/**
 * A small benchmark harness: runs a function in timed batches after a warm-up and reports the
 * median cost per operation. Each bench file exports `run(): Promise<BenchRow[]>`; `bench/run.ts`
 * runs them all and prints one table per file with ratios against the file's baseline row.
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface BenchRow {
  /** What was measured. */
  name: string;
  /** Median nanoseconds per operation. */
  nsPerOp: number;
  /** Operations per second at that median. */
  opsPerSec: number;
  /** Optional extra column (throughput and the like). */
  note?: string;
  /** What `nsPerOp` counts when it is not nanoseconds: 'B' for bytes (memory rows). */
  unit?: 'B';
}

/** A full garbage collection, without needing node --expose-gc on the command line. */
export function fullGc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Polls `cond` every 50 ms until it holds or `ms` have passed. */
export async function waitUntil(cond: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!cond() && performance.now() < end) await new Promise((r) => setTimeout(r, 50));
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
    const value = r.unit === 'B' ? `${r.nsPerOp.toFixed(0)} B` : r.nsPerOp.toFixed(0);
    const ops = r.unit === 'B' ? '' : Math.round(r.opsPerSec).toLocaleString('en-US');
    const ratio = r.unit === base.unit ? (r.nsPerOp / base.nsPerOp).toFixed(2) : '';
    out.push(
      `${r.name.padEnd(width)}  ${value.padStart(10)}  ${ops.padStart(12)}  ${ratio.padStart(7)}  ${r.note ?? ''}`,
    );
  }
  out.push(`(baseline: ${base.name})`);
  process.stdout.write(`${out.join('\n')}\n`);
}

/** One row as a JSON line (`npm run bench -- --json`), with its ratio to the baseline row. */
export function jsonLines(
  bench: string,
  title: string,
  rows: BenchRow[],
  baseline?: string,
): string {
  const base = rows.find((r) => r.name === baseline) ?? rows[0];
  return rows
    .map((r) =>
      JSON.stringify({
        bench,
        title,
        name: r.name,
        value: r.nsPerOp,
        unit: r.unit === 'B' ? 'bytes' : 'ns/op',
        opsPerSec: r.unit === 'B' ? undefined : r.opsPerSec,
        ratioToBaseline: r.unit === base.unit ? r.nsPerOp / base.nsPerOp : undefined,
        baseline: base.name,
        note: r.note,
      }),
    )
    .join('\n');
}
