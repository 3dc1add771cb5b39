/**
 * The benchmark modules `bench/run.ts` knows, in the order they run. Each module's default
 * export is a {@link BenchModule}.
 */
import type { BenchModule } from './types.js';

type Loader = () => Promise<{ default: BenchModule }>;

export const BENCHES: Array<[string, Loader]> = [
  ['crypto', () => import('./crypto.bench.js')],
  ['quic', () => import('./quic.bench.js')],
  ['scramble', () => import('./scramble.bench.js')],
  ['h3', () => import('./h3.bench.js')],
  ['connect-udp', () => import('./connect-udp.bench.js')],
  ['bind', () => import('./bind.bench.js')],
  ['quic-aware', () => import('./quic-aware.bench.js')],
  ['udp-forward', () => import('./udp-forward.bench.js')],
  ['udp-send', () => import('./udp-send.bench.js')],
  ['loss', () => import('./loss.bench.js')],
  ['endpoint-scale', () => import('./endpoint-scale.bench.js')],
  ['refusal', () => import('./refusal.bench.js')],
  ['memory', () => import('./memory.bench.js')],
];
