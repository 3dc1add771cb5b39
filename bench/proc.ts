/**
 * Processes of the process benches (bench/workers.bench.ts, bench/proxy-cpu.bench.ts): a proxy or
 * a relay in a process of its own, a load process driving it over IPC, and the CPU time the
 * kernel charged each process (/proc), so that a figure is one program's own cost.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDevCert } from '../src/tls/certs/index.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** User + system CPU seconds of one process (/proc/PID/stat utime and stime, in ticks of 10 ms). */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuSplit(pid);
  return user + system;
}

/** User and system CPU seconds of one process, apart. */
export function cpuSplit(pid: number): { user: number; system: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat are 11 and 12 after the command name and state.
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** The pids of `pid`'s children (a proxy's workers). */
export function childrenOf(pid: number): number[] {
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

/** A program measured in its own processes. */
export interface Measured {
  /** The pids whose CPU counts (the process and its children). */
  pids(): number[];
  stop(): Promise<void>;
}

function stopper(child: ChildProcess, after?: () => Promise<unknown>): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await after?.();
  };
}

/**
 * `masque proxy` (CLI entry `entry`: the built dist/src/cli/main.js, or src/cli/main.ts run
 * through tsx) on `node` with `workers` processes; resolves once its banner gives the template.
 */
export async function startProxyProcess(
  node: string,
  entry: string,
  workers: number,
  /** More environment for the proxy (e.g. MASQUE_NATIVE=0 for the path without the addon). */
  env: Record<string, string> = {},
): Promise<Measured & { template: string; ca: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'masque-bench-proxy-'));
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
  const args = entry.endsWith('.ts') ? ['--import', 'tsx', entry] : [entry];
  // MASQUE_BENCH_PROXY_NODE_ARGS: node options for the proxy alone, e.g. "--cpu-prof
  // --cpu-prof-dir=/tmp/prof" to profile it under the bench's load.
  const nodeArgs = (process.env.MASQUE_BENCH_PROXY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proxy = spawn(node, [...nodeArgs, ...args, 'proxy', '--config', join(dir, 'proxy.json')], {
    env: { ...process.env, ...env, MASQUE_CACHE_DIR: join(dir, 'cache') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = stopper(proxy, () => rm(dir, { recursive: true, force: true }));
  try {
    const template = await new Promise<string>((resolve, reject) => {
      let out = '';
      // MASQUE_BENCH_PROXY_STDOUT=1 passes the proxy's stdout on (e.g. for --trace-gc).
      const echo = process.env.MASQUE_BENCH_PROXY_STDOUT === '1';
      proxy.stdout?.on('data', (d: Buffer) => {
        if (echo) process.stderr.write(d);
        if (out.length > 4096) return;
        out += d.toString();
        const m = /URI template: +(\S+)/.exec(out);
        if (m !== null) resolve(m[1]);
      });
      proxy.once('exit', (code) => reject(new Error(`the proxy exited (${code})`)));
    });
    const pid = proxy.pid as number;
    return { template, ca: cert.certPem, pids: () => [pid, ...childrenOf(pid)], stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The plain node:dgram relay (bench/relay-process.ts) in its own process, before `echoPort`. */
export async function startRelayProcess(echoPort: number): Promise<Measured & { port: number }> {
  const relay = fork(join(ROOT, 'bench/relay-process.ts'), [String(echoPort)], {
    // MASQUE_BENCH_LOAD_NODE_ARGS: node options for the load process (the clients), e.g. a profiler.
    execArgv: [
      ...(process.env.MASQUE_BENCH_LOAD_NODE_ARGS ?? '').split(' ').filter(Boolean),
      '--import',
      'tsx',
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    relay.once('message', (m: { port: number }) => resolve(m.port));
    relay.once('exit', (code) => reject(new Error(`the relay exited (${code})`)));
  });
  return { port, pids: () => [relay.pid as number], stop: stopper(relay) };
}

/** What a load process measured, and the CPU the measured program spent meanwhile. */
export interface LoadResult {
  echoes: number;
  ms: number;
  /** CPU seconds of `measured`'s processes during the run. */
  cpu: number;
  /** Of which in the kernel (system time). */
  system: number;
  /** CPU seconds of the load process itself (the clients) during the run. */
  loadCpu: number;
}

/**
 * Runs load process `script` (bench/workers-load.ts, bench/plain-load.ts): sends it `start`, waits
 * for `ready`, then lets it go for `ms` while counting `measured`'s CPU.
 */
export async function runLoad(
  script: string,
  start: object,
  ms: number,
  measured: Measured,
): Promise<LoadResult> {
  const load = fork(join(ROOT, script), [], {
    // MASQUE_BENCH_LOAD_NODE_ARGS: node options for the load process (the clients), e.g. a profiler.
    execArgv: [
      ...(process.env.MASQUE_BENCH_LOAD_NODE_ARGS ?? '').split(' ').filter(Boolean),
      '--import',
      'tsx',
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const cpu = (): { user: number; system: number } =>
    measured.pids().reduce(
      (n, p) => {
        const c = cpuSplit(p);
        return { user: n.user + c.user, system: n.system + c.system };
      },
      { user: 0, system: 0 },
    );
  try {
    return await new Promise<LoadResult>((resolve, reject) => {
      let cpu0 = { user: 0, system: 0 };
      let load0 = 0;
      load.on('message', (m: { ready?: true; echoes?: number; ms?: number }) => {
        if (m.ready) {
          cpu0 = cpu();
          load0 = cpuSeconds(load.pid as number);
          load.send({ go: ms });
        } else if (m.echoes !== undefined) {
          const c = cpu();
          const system = c.system - cpu0.system;
          resolve({
            echoes: m.echoes,
            ms: m.ms as number,
            cpu: c.user - cpu0.user + system,
            system,
            // The load reports before it closes its clients: its CPU so far is the run's.
            loadCpu: cpuSeconds(load.pid as number) - load0,
          });
        }
      });
      load.once('exit', (code) => reject(new Error(`the load process exited (${code})`)));
      load.send(start);
    });
  } finally {
    load.kill();
  }
}
