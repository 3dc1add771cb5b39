/**
 * Runs every benchmark module listed in `bench/list.ts` and prints its table. `npm run bench`
 * runs all; `npm run bench -- scramble` runs those whose name contains the argument;
 * `--json` prints each row as one JSON line instead of the tables (both may be given).
 */
import { jsonLines, printTable } from './harness.js';
import { BENCHES } from './list.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const filter = args.find((a) => a !== '--json');
for (const [name, load] of BENCHES) {
  if (filter && !name.includes(filter)) continue;
  const mod = (await load()).default;
  const rows = await mod.run();
  if (json) process.stdout.write(`${jsonLines(name, mod.title, rows, mod.baseline)}\n`);
  else printTable(mod.title, rows, mod.baseline);
}
