/**
 * A DNS query through a MASQUE proxy: the query is built by hand (RFC 1035 §4.1), sent as one
 * UDP payload through a connect-udp tunnel, and the A records of the answer are printed.
 *
 *   MASQUE_PROXY='https://127.0.0.1:4433/.well-known/masque/udp/{target_host}/{target_port}/' \
 *   MASQUE_CA=~/.cache/masque/dev-cert.pem npx tsx examples/dns-query.ts example.com 9.9.9.9:53
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { MasqueClient } from 'masque';

/** A standard query for `name`, type A, class IN, recursion desired. */
export function buildQuery(id: number, name: string): Uint8Array {
  const labels = name.replace(/\.$/, '').split('.');
  const out: number[] = [id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const label of labels) {
    const bytes = new TextEncoder().encode(label);
    if (bytes.length === 0 || bytes.length > 63) throw new RangeError(`bad label in ${name}`);
    out.push(bytes.length, ...bytes);
  }
  out.push(0, 0, 1, 0, 1); // root, QTYPE A, QCLASS IN
  return new Uint8Array(out);
}

/** The answer's RCODE and A records (a small parser: enough for the example). */
export function parseAnswer(msg: Uint8Array, id: number): { rcode: number; addresses: string[] } {
  if (msg.length < 12 || ((msg[0] << 8) | msg[1]) !== id) throw new Error('not our answer');
  const rcode = msg[3] & 0x0f;
  const qd = (msg[4] << 8) | msg[5];
  const an = (msg[6] << 8) | msg[7];
  let i = 12;
  const skipName = (): void => {
    while (i < msg.length) {
      const len = msg[i];
      if (len === 0) {
        i++;
        return;
      }
      if ((len & 0xc0) === 0xc0) {
        i += 2; // compression pointer
        return;
      }
      i += 1 + len;
    }
  };
  for (let q = 0; q < qd; q++) {
    skipName();
    i += 4;
  }
  const addresses: string[] = [];
  for (let a = 0; a < an && i < msg.length; a++) {
    skipName();
    const type = (msg[i] << 8) | msg[i + 1];
    const rdlength = (msg[i + 8] << 8) | msg[i + 9];
    i += 10;
    if (type === 1 && rdlength === 4) addresses.push([...msg.subarray(i, i + 4)].join('.'));
    i += rdlength;
  }
  return { rcode, addresses };
}

/** Options of {@link dnsQuery}. */
export interface DnsQueryOptions {
  /** The proxy's URI template. */
  template: string;
  /** The proxy's certificate (PEM), when it is not publicly trusted. */
  ca?: string;
  /** The DNS server, as the proxy should reach it. */
  server: { host: string; port: number };
  name: string;
  timeoutMs?: number;
}

/** Asks `server` for the A records of `name` through the proxy. */
export async function dnsQuery(
  o: DnsQueryOptions,
): Promise<{ rcode: number; addresses: string[] }> {
  const client = await MasqueClient.connect(o.template, { ca: o.ca ? [o.ca] : undefined });
  try {
    const sock = await client.connectUdp(o.server.host, o.server.port);
    const id = Math.floor(Math.random() * 0x10000);
    const answer = new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no DNS answer')), o.timeoutMs ?? 5000);
      sock.once('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
    sock.send(buildQuery(id, o.name));
    return parseAnswer(await answer, id);
  } finally {
    await client.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const template = process.env.MASQUE_PROXY;
  if (template === undefined) {
    process.stderr.write(
      'set MASQUE_PROXY to the proxy URI template (and MASQUE_CA to its cert)\n',
    );
    process.exit(2);
  }
  const name = process.argv[2] ?? 'example.com';
  const [host, port] = (process.argv[3] ?? '9.9.9.9:53').split(/:(?=\d+$)/);
  const ca = process.env.MASQUE_CA ? readFileSync(process.env.MASQUE_CA, 'utf8') : undefined;
  const r = await dnsQuery({ template, ca, server: { host, port: Number(port) }, name });
  process.stdout.write(`${name}: rcode ${r.rcode}, A ${r.addresses.join(', ') || '(none)'}\n`);
}
