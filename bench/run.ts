/**
 * Runs every benchmark module listed in `bench/list.ts` and prints its table. `npm run bench`
 * runs all, then repeats the rows of `SUMMARY` in one table; `npm run bench -- scramble` runs
 * those whose name contains the argument; `--json` prints each row as one JSON line instead of
 * the tables (both may be given).
 */
import { type BenchRow, jsonLines, printTable } from './harness.js';
import { BENCHES, SUMMARY } from './list.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const filter = args.find((a) => a !== '--json');
const summary: BenchRow[] = [];
for (const [name, load] of BENCHES) {
  if (filter && !name.includes(filter)) continue;
  const mod = (await load()).default;
  const rows = await mod.run();
  if (json) process.stdout.write(`${jsonLines(name, mod.title, rows, mod.baseline)}\n`);
  else printTable(mod.title, rows, mod.baseline);
  const base = rows.find((r) => r.name === mod.baseline);
  for (const [bench, rowName, label] of SUMMARY) {
    const r = bench === name ? rows.find((x) => x.name === rowName) : undefined;
    if (r === undefined) continue;
    const share =
      r.unit === 'B' || base === undefined || base.unit === 'B'
        ? ''
        : `${(r.opsPerSec / base.opsPerSec).toFixed(2)} of the relay measured beside it`;
    summary.push({ ...r, name: label, note: [share, r.note].filter((s) => s).join('; ') });
  }
}
if (filter === undefined && !json) {
  printTable('Summary (issue 13): each row beside its own module’s relay, one run', summary);
}
