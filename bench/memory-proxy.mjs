// The proxy of bench/memory.bench.ts, in a process of its own running the built code (dist/), as
// `npm start` runs it: TypeScript run through tsx carries esbuild's keepNames helpers, which
// turn every closure into a dictionary-mode function (~256 B more each), and the bench's own
// crowds would share its heap. The parent asks over IPC; this process answers with its memory.
import v8 from 'node:v8';
import { pino } from 'pino';
import { startProxy } from '../dist/src/app/index.js';
import { parseConfig } from '../dist/src/config/index.js';
import { generateDevCert } from '../dist/src/tls/certs/index.js';

const SETTLE_MS = 3000;

const cert = generateDevCert();
const proxy = await startProxy(parseConfig(JSON.parse(process.argv[2])), {
  certPem: cert.certPem,
  keyPem: cert.keyPem,
  logger: pino({ level: 'silent' }),
});

async function sample() {
  // Post-handshake timers (ACK delay, PTO, key discard) have run out by then.
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  const st = proxy.server.stats();
  const spaces = v8.getHeapSpaceStatistics();
  const resident = (s) => s.physical_space_size;
  return {
    // What V8's spaces hold of RSS (heapTotal undercounts a new space shrunk after a GC).
    v8Resident: spaces.reduce((sum, s) => sum + resident(s), 0),
    newSpace: spaces.filter((s) => s.space_name === 'new_space').reduce((a, s) => a + resident(s), 0),
    heap: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    rss: m.rss,
    connections: st.connections,
  };
}

process.on('message', async (msg) => {
  if (msg === 'sample') process.send(await sample());
  else if (msg === 'close') {
    await proxy.close({ timeout: 200 });
    process.send(true);
    process.exit(0);
  }
});
process.send({ address: proxy.address, template: proxy.template, ca: cert.certPem });
