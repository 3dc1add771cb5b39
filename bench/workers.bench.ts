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
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDevCert } from '../src/tls/certs/index.js';
import type { BenchRow } from './harness.js';
import type { BenchModule } from './types.js';
import { closeAll, echoTarget } from './udp-relay.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
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

/** User + system CPU seconds of one process (/proc/PID/stat utime and stime, in ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat are 11 and 12 after the command name and state.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The pids of `pid`'s children (the workers). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

async function run(node: string, workers: number, echoPort: number): Promise<BenchRow> {
  const dir = await mkdtemp(join(tmpdir(), 'masque-workers-bench-'));
  const cert = generateDevCert();
  await writeFile(join(dir, 'cert.pem'), cert.certPem);
  await writeFile(join(dir, 'key.pem'), cert.keyPem, { mode: 0o600 });
  await writeFile(
    join(dir, 'proxy.json'),
    JSON.stringify({
      listen: '127.0.0.1:0',
      certificate: { cert: 'cert.pem', key: 'key.pem' },
      targets: { allow: ['127.0.0.0/8'] },
      logLevel: 'silent',
      accessLog: false,
      workers,
      shutdownGraceMs: 0,
    }),
  );
  const proxy: ChildProcess = spawn(
    node,
    [
      '--import',
      'tsx',
      join(ROOT, 'src/cli/main.ts'),
      'proxy',
      '--config',
      join(dir, 'proxy.json'),
    ],
    {
      env: { ...process.env, MASQUE_CACHE_DIR: join(dir, 'cache') },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const template = await new Promise<string>((resolve, reject) => {
      let out = '';
      proxy.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /URI template: +(\S+)/.exec(out);
        if (m !== null) resolve(m[1]);
      });
      proxy.once('exit', (code) => reject(new Error(`the proxy exited (${code})`)));
    });
    const pids = (): number[] => [proxy.pid as number, ...childrenOf(proxy.pid as number)];
    const load = fork(join(ROOT, 'bench/workers-load.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const result = await new Promise<{ echoes: number; ms: number }>((resolve, reject) => {
      let cpu0 = 0;
      load.on('message', (m: { ready?: true; echoes?: number; ms?: number }) => {
        if (m.ready) {
          cpu0 = pids().reduce((n, p) => n + cpuSeconds(p), 0);
          load.send({ go: MS });
        } else if (m.echoes !== undefined) {
          const cpu = pids().reduce((n, p) => n + cpuSeconds(p), 0) - cpu0;
          resolve({ echoes: m.echoes, ms: m.ms as number, cpu } as never);
        }
      });
      load.once('exit', (code) => reject(new Error(`the load process exited (${code})`)));
      load.send({ template, ca: cert.certPem, echoPort, clients: CLIENTS });
    });
    load.kill();
    const r = result as { echoes: number; ms: number; cpu: number };
    const perSec = (r.echoes * 1000) / r.ms;
    const cpuUs = (r.cpu * 1e6) / r.echoes;
    return {
      name: `${workers} worker${workers > 1 ? 's' : ''}, ${CLIENTS} clients`,
      nsPerOp: 1e9 / perSec,
      opsPerSec: perSec,
      note: `${Math.round(perSec).toLocaleString('en-US')} echoes/s; proxy processes ${cpuUs.toFixed(0)} µs CPU per echo`,
    };
  } finally {
    proxy.kill('SIGTERM');
    await new Promise((r) => (proxy.exitCode !== null ? r(undefined) : proxy.once('exit', r)));
    await rm(dir, { recursive: true, force: true });
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
