/**
 * The load of the plain relay in bench/proxy-cpu.bench.ts, the counterpart of
 * bench/workers-load.ts without MASQUE: `clients` UDP sockets, each keeping `window` 1200-byte
 * datagrams in flight through the relay to the echo target. Asked over IPC: start (answer
 * `ready`), then go for `ms` milliseconds and answer how many echoes came back.
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { bind } from './udp-relay.js';

const payload = Buffer.alloc(1200, 0x5a);

interface Start {
  relayPort: number;
  clients: number;
  window: number;
}

let sockets: Socket[] = [];
let start: Start | undefined;

process.on('message', async (m: Start | { go: number }) => {
  if ('relayPort' in m) {
    start = m;
    sockets = await Promise.all(
      Array.from({ length: m.clients }, async () => {
        const s = createSocket('udp4');
        await bind(s);
        return s;
      }),
    );
    process.send?.({ ready: true });
    return;
  }
  const { relayPort, window } = start as Start;
  let echoes = 0;
  let running = true;
  for (const s of sockets) {
    s.on('message', () => {
      echoes++;
      if (running) s.send(payload, relayPort, '127.0.0.1');
    });
    for (let i = 0; i < window; i++) s.send(payload, relayPort, '127.0.0.1');
  }
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, m.go));
  running = false;
  const ms = performance.now() - t0;
  process.send?.({ echoes, ms });
  process.exit(0);
});
