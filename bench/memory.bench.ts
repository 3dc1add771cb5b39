/**
 * What an idle QUIC connection and an idle connect-udp tunnel cost the proxy in memory (issue 10
 * point 6, issue 13's goals: an idle connection <= 32 KiB, an idle tunnel <= 16 KiB of heap).
 *
 * The proxy runs alone in a child process from the built code (bench/memory-proxy.mjs; the
 * bench builds it first); the clients run in two more (bench/idle-crowd.ts: QUIC connections
 * with ALPN h3 and no request; bench/tunnel-crowd.ts: SDK clients holding idle tunnels). Each
 * figure is the proxy's growth between two full garbage collections, divided by the number of
 * connections or tunnels added, after their post-handshake timers have run out. Two rows per
 * connection figure:
 *   first     the first 1,000 connections of a fresh proxy (after 10 warm-up ones), everything
 *             included: also what the proxy grows once, whatever the load (V8's new space
 *             growing to its maximum semi-space over the handshakes' garbage, optimised code,
 *             the C allocator's arenas and the handshakes' freed memory it keeps)
 *   marginal  the next 1,000 on that warmed proxy: what one more idle connection costs
 * Each row reports:
 *   heap      V8's used heap (JS objects)
 *   external  memory outside the V8 heap that JS objects own (ArrayBuffer stores, native crypto)
 *   RSS       the process's resident memory (the kernel's socket buffers are not in it), split
 *             into what V8's spaces hold resident (live objects, the free pages V8 keeps, the
 *             new space: its share of RSS grows with the handshakes' garbage up to twice the
 *             maximum semi-space, 2 x 16 MiB by default on 64-bit Node) and the rest (the C
 *             heap: native objects, what the allocator keeps of freed memory; code; stacks)
 * The tunnel rows are the cost of the tunnel alone: its connection's share is taken out.
 * MEMORY_BENCH_COUNT overrides the 1,000 of each (the marginal rows add as many again).
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { LIFTED_LIMITS } from './bench-proxy.js';
import type { BenchRow } from './harness.js';
import { IdleCrowd } from './idle-crowd.js';
import { PER_CLIENT, TunnelCrowd } from './tunnel-crowd.js';
import type { BenchModule } from './types.js';
import { closeAll, echoTarget } from './udp-relay.js';

const COUNT = Number(process.env.MEMORY_BENCH_COUNT ?? 1000);

interface Sample {
  heap: number;
  /** V8's heap with its free space, as V8 counts it (less than its resident pages: see below). */
  heapTotal: number;
  /** The resident pages of V8's spaces (physical space size). */
  v8Resident: number;
  /** Of which the new space's. */
  newSpace: number;
  external: number;
  rss: number;
  connections: number;
}

const CONFIG = {
  listen: '127.0.0.1:0',
  targets: { allow: ['127.0.0.0/8'] },
  limits: {
    ...LIFTED_LIMITS,
    tunnelsPerConnection: PER_CLIENT,
    tunnelsTotal: 1_000_000,
  },
};

/** The proxy process. */
class ProxyChild {
  private constructor(
    readonly child: ChildProcess,
    readonly info: { address: string; template: string; ca: string },
  ) {}

  static async start(): Promise<ProxyChild> {
    const root = new URL('..', import.meta.url).pathname;
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
    const child = fork(
      new URL('./memory-proxy.mjs', import.meta.url).pathname,
      [JSON.stringify(CONFIG)],
      {
        execArgv: ['--expose-gc'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    const info = await new Promise<ProxyChild['info']>((resolve, reject) => {
      child.once('message', (m) => resolve(m as ProxyChild['info']));
      child.once('exit', (code) => reject(new Error(`the proxy exited (${code})`)));
    });
    return new ProxyChild(child, info);
  }

  ask(msg: 'sample' | 'close'): Promise<unknown> {
    return new Promise((resolve) => {
      this.child.once('message', resolve);
      this.child.send(msg);
    });
  }

  sample(): Promise<Sample> {
    return this.ask('sample') as Promise<Sample>;
  }
}

type Measure = 'heap' | 'heapTotal' | 'v8Resident' | 'newSpace' | 'external' | 'rss';

function rows(what: string, before: Sample, after: Sample, n: number, note: string): BenchRow[] {
  const per = (k: Measure): number => (after[k] - before[k]) / n;
  const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
  return [
    {
      name: `${what}: heap + external`,
      nsPerOp: per('heap') + per('external'),
      opsPerSec: 0,
      unit: 'B',
      note: `heap ${kib(per('heap'))}, external ${kib(per('external'))}; ${note}`,
    },
    {
      name: `${what}: RSS`,
      nsPerOp: per('rss'),
      opsPerSec: 0,
      unit: 'B',
      note: `V8's spaces ${kib(per('v8Resident'))} (new space ${kib(per('newSpace'))}), the rest (C heap, code) ${kib(per('rss') - per('v8Resident'))}; ${note}`,
    },
  ];
}

const bench: BenchModule = {
  title: `Memory at the proxy per idle connection and per idle tunnel (${COUNT.toLocaleString('en-US')} of each; built code)`,
  async run(): Promise<BenchRow[]> {
    const target = await echoTarget();
    const proxy = await ProxyChild.start();
    const { address, template, ca } = proxy.info;
    const out: BenchRow[] = [];
    const conns = await IdleCrowd.spawn(address, ca);
    const tunnels = await TunnelCrowd.spawn(template, ca, target.port);
    try {
      // Warm up: some of each first, so that code and caches are not counted per item.
      await conns.grow(10);
      await tunnels.grow(PER_CLIENT);
      const c0 = await proxy.sample();
      const live = (await conns.grow(10 + COUNT)) - 10;
      const c1 = await proxy.sample();
      out.push(
        ...rows('idle QUIC connection (HTTP/3), first', c0, c1, live, `${c1.connections} held`),
      );
      const more = (await conns.grow(10 + 2 * COUNT)) - 10 - live;
      const c2 = await proxy.sample();
      out.push(
        ...rows('idle QUIC connection (HTTP/3), marginal', c1, c2, more, `${c2.connections} held`),
      );
      const open = (await tunnels.grow(PER_CLIENT + COUNT)) - PER_CLIENT;
      const t1 = await proxy.sample();
      // Tunnels come PER_CLIENT to a connection: take their connections' share out (the
      // marginal figure: the proxy is warm by then).
      const share = (k: Measure): number => ((c2[k] - c1[k]) / more) * (open / PER_CLIENT);
      const t1less = {
        ...t1,
        heap: t1.heap - share('heap'),
        heapTotal: t1.heapTotal - share('heapTotal'),
        v8Resident: t1.v8Resident - share('v8Resident'),
        newSpace: t1.newSpace - share('newSpace'),
        external: t1.external - share('external'),
        rss: t1.rss - share('rss'),
      };
      const note = `${open} tunnels, ${PER_CLIENT} per connection (its share taken out)`;
      out.push(...rows('idle connect-udp tunnel', c2, t1less, open, note));
    } finally {
      await tunnels.close();
      await conns.close();
      await proxy.ask('close');
      await closeAll([target.socket]);
    }
    return out;
  },
};

export default bench;
