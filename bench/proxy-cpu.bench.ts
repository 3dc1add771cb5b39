/**
 * The proxy's own CPU per echo beside a plain node:dgram relay's (issue 13's first goal: "proxy
 * CPU per echo <= 2x a plain node:dgram relay's"), each program in a process of its own and the
 * CPU read from /proc, so that neither the clients nor the echo target are counted (the other
 * modules time one process holding all three).
 *
 * The same load for both, from a load process: `flows` clients (SDK clients with one connect-udp
 * tunnel each for the proxy, plain UDP sockets for the relay), each keeping `window` 1200-byte
 * datagrams in flight, echoed by a UDP target in this process. Two shapes: one flow with 32 in
 * flight (the harness of the issue's measurements) and 32 flows with 8 each. The proxy is
 * `masque proxy` from the built dist/ (as `npm start` runs it; built first when stale) with the
 * crypto backend this process has (native addon, or node:crypto with MASQUE_NATIVE=0).
 *
 * Where the addon is loaded, each round of the one-flow shape also runs the proxy on the path
 * without it (`MASQUE_NATIVE=0` in the proxy's environment: node:dgram sends and receives,
 * node:crypto AEAD), so that one run gives both paths beside the same relay (issue 13, "Proven
 * by"). The load process is the same for both.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { cryptoBackend } from '../src/crypto/native.js';
import type { BenchRow } from './harness.js';
import { type LoadResult, ROOT, runLoad, startProxyProcess, startRelayProcess } from './proc.js';
import type { BenchModule } from './types.js';
import { closeAll, echoTarget } from './udp-relay.js';

const MS = Number(process.env.MASQUE_BENCH_MS ?? 3000);
const SHAPES = [
  { flows: 1, window: 32 },
  { flows: 32, window: 8 },
];

function perEcho(r: LoadResult): {
  perSec: number;
  cpuUs: number;
  sysUs: number;
  clientUs: number;
} {
  return {
    perSec: (r.echoes * 1000) / r.ms,
    cpuUs: (r.cpu * 1e6) / r.echoes,
    sysUs: (r.system * 1e6) / r.echoes,
    clientUs: (r.loadCpu * 1e6) / r.echoes,
  };
}

/** Rounds per shape (relay then proxy each time); the rows give the median round. */
const ROUNDS = Math.max(1, Number(process.env.MASQUE_BENCH_ROUNDS ?? 3));

type Echo = ReturnType<typeof perEcho>;

/** One round of one shape: the relay, then the proxy, under the same load. */
async function round(
  targetPort: number,
  flows: number,
  window: number,
  jsPath: boolean,
): Promise<{ a: Echo; b: Echo; js?: Echo }> {
  const relay = await startRelayProcess(targetPort);
  let plain: LoadResult;
  try {
    const start = { relayPort: relay.port, clients: flows, window };
    plain = await runLoad('bench/plain-load.ts', start, MS, relay);
  } finally {
    await relay.stop();
  }
  const tunnelled = await proxyRound(targetPort, flows, window, {});
  const js = jsPath
    ? await proxyRound(targetPort, flows, window, { MASQUE_NATIVE: '0' })
    : undefined;
  return { a: perEcho(plain), b: perEcho(tunnelled), js: js && perEcho(js) };
}

/** The built proxy in a process of its own (with `env` added) under the SDK clients' load. */
async function proxyRound(
  targetPort: number,
  flows: number,
  window: number,
  env: Record<string, string>,
): Promise<LoadResult> {
  const entry = join(ROOT, 'dist/src/cli/main.js');
  const proxy = await startProxyProcess(process.execPath, entry, 1, env);
  try {
    const start = {
      template: proxy.template,
      ca: proxy.ca,
      echoPort: targetPort,
      clients: flows,
      window,
    };
    return await runLoad('bench/workers-load.ts', start, MS, proxy);
  } finally {
    await proxy.stop();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const bench: BenchModule = {
  title: `Proxy CPU per echo in its own process, beside a plain relay's (1200 B; crypto: ${cryptoBackend()}; median of ${ROUNDS} round${ROUNDS > 1 ? 's' : ''})`,
  baseline: 'plain relay process, 1 flow x 32 in flight',
  async run(): Promise<BenchRow[]> {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' });
    const target = await echoTarget();
    const rows: BenchRow[] = [];
    try {
      for (const { flows, window } of SHAPES) {
        const shape = `${flows} flow${flows > 1 ? 's' : ''} x ${window} in flight`;
        // The path without the addon, for the one-flow shape, when this run has the addon.
        const jsPath = flows === 1 && cryptoBackend() === 'native';
        const rounds: Array<{ a: Echo; b: Echo; js?: Echo }> = [];
        for (let r = 0; r < ROUNDS; r++) {
          rounds.push(await round(target.port, flows, window, jsPath));
        }
        // Each round's ratio is taken within the round (the VM's pace drifts between rounds).
        const ratios = rounds.map(({ a, b }) => b.cpuUs / a.cpuUs);
        const ratio = median(ratios);
        const pick = (f: (e: { a: Echo; b: Echo }) => number): number => median(rounds.map(f));
        const side = (e: 'a' | 'b') => ({
          perSec: pick((x) => x[e].perSec),
          cpuUs: pick((x) => x[e].cpuUs),
          sysUs: pick((x) => x[e].sysUs),
          clientUs: pick((x) => x[e].clientUs),
        });
        const a = side('a');
        const b = side('b');
        const clientRatio = median(rounds.map((x) => x.b.clientUs / x.a.clientUs));
        rows.push(
          {
            name: `plain relay process, ${shape}`,
            nsPerOp: 1e9 / a.perSec,
            opsPerSec: a.perSec,
            note: `${Math.round(a.perSec).toLocaleString('en-US')} echoes/s; relay ${a.cpuUs.toFixed(1)} µs CPU per echo (${a.sysUs.toFixed(1)} in the kernel); plain UDP clients ${a.clientUs.toFixed(1)} µs`,
          },
          {
            name: `proxy process (connect-udp, HTTP/3), ${shape}`,
            nsPerOp: 1e9 / b.perSec,
            opsPerSec: b.perSec,
            note: `${Math.round(b.perSec).toLocaleString('en-US')} echoes/s; proxy ${b.cpuUs.toFixed(1)} µs CPU per echo (${b.sysUs.toFixed(1)} in the kernel) = ${ratio.toFixed(2)}x the relay's (goal <= 2; rounds ${ratios.map((x) => x.toFixed(2)).join(', ')}); throughput ${(b.perSec / a.perSec).toFixed(2)} of the relay's; SDK clients ${b.clientUs.toFixed(1)} µs = ${clientRatio.toFixed(2)}x the plain clients'`,
          },
        );
        if (jsPath) {
          const js = rounds.map((x) => x.js as Echo);
          const jsRatios = rounds.map((x) => (x.js as Echo).cpuUs / x.a.cpuUs);
          const perSec = median(js.map((e) => e.perSec));
          const cpuUs = median(js.map((e) => e.cpuUs));
          const sysUs = median(js.map((e) => e.sysUs));
          rows.push({
            name: `proxy process, path without the addon (MASQUE_NATIVE=0), ${shape}`,
            nsPerOp: 1e9 / perSec,
            opsPerSec: perSec,
            note: `${Math.round(perSec).toLocaleString('en-US')} echoes/s; proxy ${cpuUs.toFixed(1)} µs CPU per echo (${sysUs.toFixed(1)} in the kernel) = ${median(jsRatios).toFixed(2)}x the relay's (rounds ${jsRatios.map((x) => x.toFixed(2)).join(', ')}); throughput ${(perSec / a.perSec).toFixed(2)} of the relay's; ${(median(js.map((e, i) => e.cpuUs / rounds[i].b.cpuUs))).toFixed(2)}x the native path's CPU`,
          });
        }
      }
    } finally {
      await closeAll([target.socket]);
    }
    return rows;
  },
};

export default bench;
