/**
 * 1 vs 2 worker processes (`masque proxy --workers N`, issue 13 "every core"): the proxy runs as
 * an operator runs it, in its own processes; a load process (bench/workers-load.ts) holds 32
 * clients, each its own UDP socket and one tunnel, echoing 1200-byte datagrams in a closed loop
 * (window 8 each) through the proxy to a UDP echo in this process. Rows: echoes per second with
 * 1 and 2 workers, and the proxy processes' CPU per echo (from /proc, primary and workers).
 *
 * On a 2-core machine the load process needs a core of its own too, so the second worker gets
 * what is left: the ratio here is a floor for a proxy whose clients are elsewhere. SO_REUSEPORT
 * for UDP needs Node >= 22.12: the proxy runs on this Node if it has it, else on the Node 24 that
 * `npm run test:node24` keeps in .cache/node24; with neither the module says so in its row.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchRow } from './harness.js';
import { ROOT, runLoad, startProxyProcess } from './proc.js';
import type { BenchModule } from './types.js';
import { closeAll, echoTarget } from './udp-relay.js';

const MS = Number(process.env.MASQUE_BENCH_MS ?? 3000);
const CLIENTS = 32;

function reusePortNode(): string | undefined {
  const ok = (v: string): boolean => {
    const [major, minor] = v.split('.').map(Number);
    return major > 22 || (major === 22 && minor >= 12);
  };
  if (ok(process.versions.node)) return process.execPath;
  const cached = join(ROOT, '.cache', 'node24', 'package', 'bin', 'node');
  if (!existsSync(cached)) return undefined;
  const v = execFileSync(cached, ['--version'], { encoding: 'utf8' }).trim().slice(1);
  return ok(v) ? cached : undefined;
}

async function run(node: string, workers: number, echoPort: number): Promise<BenchRow> {
  const proxy = await startProxyProcess(node, join(ROOT, 'src/cli/main.ts'), workers);
  try {
    const r = await runLoad(
      'bench/workers-load.ts',
      { template: proxy.template, ca: proxy.ca, echoPort, clients: CLIENTS },
      MS,
      proxy,
    );
    const perSec = (r.echoes * 1000) / r.ms;
    const cpuUs = (r.cpu * 1e6) / r.echoes;
    return {
      name: `${workers} worker${workers > 1 ? 's' : ''}, ${CLIENTS} clients`,
      nsPerOp: 1e9 / perSec,
      opsPerSec: perSec,
      note: `${Math.round(perSec).toLocaleString('en-US')} echoes/s; proxy processes ${cpuUs.toFixed(0)} µs CPU per echo`,
    };
  } finally {
    await proxy.stop();
  }
}

const bench: BenchModule = {
  title: `Worker processes on one UDP port: ${CLIENTS} clients echoing through the proxy (1200 B, window 8 each)`,
  baseline: '1 worker, 32 clients',
  async run(): Promise<BenchRow[]> {
    const node = reusePortNode();
    if (node === undefined) {
      process.stderr.write('workers: no Node >= 22.12 here (SO_REUSEPORT for UDP); not measured\n');
      return [];
    }
    const target = await echoTarget();
    try {
      const one = await run(node, 1, target.port);
      const two = await run(node, 2, target.port);
      two.note += `; ${(two.opsPerSec / one.opsPerSec).toFixed(2)}x the single worker`;
      return [one, two];
    } finally {
      await closeAll([target.socket]);
    }
  },
};

export default bench;
