/**
 * Runs every benchmark module listed in `bench/list.ts` and prints its table. `npm run bench`
 * runs all; `npm run bench -- scramble` runs those whose name contains the argument.
 */
import { printTable } from './harness.js';
import { BENCHES } from './list.js';

const filter = process.argv[2];
for (const [name, load] of BENCHES) {
  if (filter && !name.includes(filter)) continue;
  const mod = (await load()).default;
  printTable(mod.title, await mod.run(), mod.baseline);
}
