/**
 * The load of bench/workers.bench.ts, in a process of its own: N SDK clients (each its own UDP
 * socket, so the kernel may give each to another worker), one tunnel each to the echo target,
 * each keeping `window` (default 8) 1200-byte datagrams in flight. Asked over IPC: start (connect everything,
 * answer `ready`), then go for `ms` milliseconds and answer how many echoes came back.
 */
import { performance } from 'node:perf_hooks';
import { MasqueClient } from '../src/client/index.js';
import type { MasqueUdpSocket } from '../src/client/udp-socket.js';

/** Datagrams each client keeps in flight unless `start` says otherwise. */
const WINDOW = 8;
const payload = new Uint8Array(1200).fill(0x5a);

interface Start {
  template: string;
  ca: string;
  echoPort: number;
  clients: number;
  window?: number;
}

// Stopped by the bench once it has the result: exit normally, so a --cpu-prof profile is written.
process.on('SIGTERM', () => process.exit(0));

let sockets: MasqueUdpSocket[] = [];
let clients: MasqueClient[] = [];
let window = WINDOW;

process.on('message', async (m: Start | { go: number }) => {
  if ('template' in m) {
    window = m.window ?? WINDOW;
    clients = await Promise.all(
      Array.from({ length: m.clients }, () => MasqueClient.connect(m.template, { ca: [m.ca] })),
    );
    sockets = await Promise.all(clients.map((c) => c.connectUdp('127.0.0.1', m.echoPort)));
    process.send?.({ ready: true });
    return;
  }
  let echoes = 0;
  let running = true;
  for (const s of sockets) {
    s.on('message', () => {
      echoes++;
      if (running) s.send(payload);
    });
    for (let i = 0; i < window; i++) s.send(payload);
  }
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, m.go));
  running = false;
  const ms = performance.now() - t0;
  process.send?.({ echoes, ms });
  await Promise.all(clients.map((c) => c.close()));
  process.exit(0);
});
