/**
 * The benchmark modules `bench/run.ts` knows, in the order they run. Each module's default
 * export is a {@link BenchModule}.
 */
import type { BenchModule } from './types.js';

type Loader = () => Promise<{ default: BenchModule }>;

export const BENCHES: Array<[string, Loader]> = [
  ['crypto', () => import('./crypto.bench.js')],
  ['quic', () => import('./quic.bench.js')],
  ['handshake', () => import('./handshake.bench.js')],
  ['scramble', () => import('./scramble.bench.js')],
  ['h3', () => import('./h3.bench.js')],
  ['connect-udp', () => import('./connect-udp.bench.js')],
  ['proxy-cpu', () => import('./proxy-cpu.bench.js')],
  ['one-way', () => import('./one-way.bench.js')],
  ['one-way-paced', () => import('./one-way-paced.bench.js')],
  ['bind', () => import('./bind.bench.js')],
  ['quic-aware', () => import('./quic-aware.bench.js')],
  ['udp-forward', () => import('./udp-forward.bench.js')],
  ['udp-send', () => import('./udp-send.bench.js')],
  ['loss', () => import('./loss.bench.js')],
  ['endpoint-scale', () => import('./endpoint-scale.bench.js')],
  ['refusal', () => import('./refusal.bench.js')],
  ['memory', () => import('./memory.bench.js')],
  ['workers', () => import('./workers.bench.js')],
];

/**
 * The rows `npm run bench` repeats at the end in one summary table (issue 13's figures), each
 * with its throughput as a share of the plain relay measured by the same module in the same run:
 * [module, row name, label in the summary].
 */
export const SUMMARY: Array<[string, string, string]> = [
  ['connect-udp', 'plain node:dgram relay, 1 flow', 'plain node:dgram relay (1 flow)'],
  ['connect-udp', 'connect-udp, 1 tunnel', 'tunnelled connect-udp, HTTP/3, 1 tunnel'],
  ['connect-udp', 'connect-udp, 10 tunnels', 'tunnelled connect-udp, HTTP/3, 10 tunnels'],
  ['connect-udp', 'connect-udp, 1 tunnel, HTTP/2 (TCP)', 'tunnelled connect-udp, HTTP/2'],
  [
    'connect-udp',
    'connect-udp, 1 tunnel, HTTP/1.1 Upgrade (TCP)',
    'tunnelled connect-udp, HTTP/1.1',
  ],
  [
    'proxy-cpu',
    'proxy process (connect-udp, HTTP/3), 1 flow x 32 in flight',
    'proxy process alone, CPU per echo vs a relay process (1 tunnel, 32 in flight)',
  ],
  [
    'proxy-cpu',
    'proxy process, path without the addon (MASQUE_NATIVE=0), 1 flow x 32 in flight',
    'proxy process alone, path without the addon, CPU per echo vs a relay process (1 tunnel, 32 in flight)',
  ],
  [
    'proxy-cpu',
    'proxy process (connect-udp, HTTP/3), 32 flows x 8 in flight',
    'proxy process alone, CPU per echo vs a relay process (32 tunnels, 8 in flight each)',
  ],
  ['quic-aware', 'forwarded, identity', 'QUIC-aware forwarded, identity'],
  ['quic-aware', 'forwarded, scramble-dt', 'QUIC-aware forwarded, scramble-dt'],
  [
    'quic',
    'quic handshake, sequential, new connection each',
    'QUIC handshakes over loopback (client and server in one process)',
  ],
  [
    'handshake',
    'full handshake (certificate, ECDSA P-256 signature, x25519)',
    'server CPU per full handshake',
  ],
  ['handshake', 'resumed handshake (session ticket)', 'server CPU per resumed handshake'],
  [
    'memory',
    'idle QUIC connection (HTTP/3), first: heap + external',
    'memory per idle connection (first 1,000)',
  ],
  [
    'memory',
    'idle QUIC connection (HTTP/3), first: RSS',
    'RSS per idle connection (first 1,000, one-time growth included)',
  ],
  [
    'memory',
    'idle QUIC connection (HTTP/3), marginal: RSS',
    'RSS per idle connection (the next 1,000, warm proxy)',
  ],
  ['workers', '1 worker, 32 clients', 'proxy with 1 worker process (32 clients)'],
  ['workers', '2 workers, 32 clients', 'proxy with 2 worker processes (32 clients)'],
  ['memory', 'idle connect-udp tunnel: heap + external', 'memory per idle tunnel'],
];
