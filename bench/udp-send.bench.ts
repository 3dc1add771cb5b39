/**
 * The node:dgram send path (issue 13, lever 3): CPU per 1200-byte send over loopback on an
 * unconnected socket (node resolves the address per send through dns.lookup and a nextTick), on
 * an unconnected socket whose `lookup` answers IP literals synchronously, and on a connected
 * socket (no address at all; the kernel keeps the route). The receiving socket is in the same
 * process, so each figure includes the kernel's loopback delivery and one 'message' event.
 */

import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import type { BenchRow } from './harness.js';
import type { BenchModule } from './types.js';
import { bind, closeAll } from './udp-relay.js';

const SENDS = 100_000;
const BURST = 64;

/** A `lookup` that answers IP literals at once (dns.lookup for names). */
const literalLookup: SocketOptions['lookup'] = (address, options, cb) => {
  const family = isIP(address);
  if (family !== 0) (cb as (e: null, a: string, f: number) => void)(null, address, family);
  else dnsLookup(address, options, cb);
};

async function cpuPerSend(send: (cb: () => void) => void): Promise<number> {
  let done = 0;
  const t0 = process.cpuUsage();
  await new Promise<void>((resolve) => {
    const cb = (): void => {
      if (++done === SENDS) resolve();
    };
    let i = 0;
    const burst = (): void => {
      for (let k = 0; k < BURST && i < SENDS; k++, i++) send(cb);
      if (i < SENDS) setImmediate(burst);
    };
    burst();
  });
  const c = process.cpuUsage(t0);
  return ((c.user + c.system) * 1000) / SENDS; // ns
}

const bench: BenchModule = {
  title: 'node:dgram send path, 1200-byte sends over loopback (CPU per send, receiver included)',
  baseline: 'unconnected socket, dns.lookup per send (node default)',
  async run() {
    const sink = createSocket('udp4');
    const port = await bind(sink);
    sink.on('message', () => {});
    const payload = Buffer.alloc(1200, 1);
    const open: Socket[] = [sink];
    const rows: BenchRow[] = [];
    const row = (name: string, ns: number): void => {
      rows.push({ name, nsPerOp: ns, opsPerSec: 1e9 / ns });
    };
    const plain = createSocket('udp4');
    const literal = createSocket({ type: 'udp4', lookup: literalLookup });
    const connected = createSocket('udp4');
    open.push(plain, literal, connected);
    await Promise.all([bind(plain), bind(literal), bind(connected)]);
    await new Promise<void>((r) => connected.connect(port, '127.0.0.1', r));
    // Warm-up, then the three in turn.
    await cpuPerSend((cb) => plain.send(payload, port, '127.0.0.1', cb));
    row(
      'unconnected socket, dns.lookup per send (node default)',
      await cpuPerSend((cb) => plain.send(payload, port, '127.0.0.1', cb)),
    );
    row(
      'unconnected socket, synchronous lookup of IP literals',
      await cpuPerSend((cb) => literal.send(payload, port, '127.0.0.1', cb)),
    );
    row('connected socket', await cpuPerSend((cb) => connected.send(payload, cb)));
    await closeAll(open);
    return rows;
  },
};

export default bench;
