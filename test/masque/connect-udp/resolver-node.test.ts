import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTarget, resolveTarget, TargetPolicy } from '../../../src/masque/connect-udp/index.js';
import { createNodeResolver } from '../../../src/masque/connect-udp/resolver-node.js';

/**
 * A tiny authoritative DNS server on 127.0.0.1 (RFC 1035 §4.1): the answer depends on the first
 * label of the question name.
 */
function questionEnd(msg: Buffer): number {
  let i = 12;
  while (msg[i] !== 0) i += msg[i] + 1;
  return i + 5; // root label, QTYPE, QCLASS
}

function answer(query: Buffer): Buffer | undefined {
  const end = questionEnd(query);
  const first = query.subarray(13, 13 + query[12]).toString('latin1');
  const qtype = query.readUInt16BE(end - 4);
  const rcode = { nx: 3, fail: 2, refused: 5 }[first] ?? 0;
  if (first === 'slow') return undefined;
  const records: Buffer[] = [];
  if (first === 'ok' || first === 'mixed') {
    const rdata =
      qtype === 1
        ? Buffer.from(first === 'ok' ? [192, 0, 2, 1] : [127, 0, 0, 1])
        : Buffer.from('20010db8000000000000000000000001', 'hex');
    if (qtype === 1 || first === 'ok') {
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
      rr.writeUInt16BE(qtype, 2);
      rr.writeUInt16BE(1, 4); // class IN
      rr.writeUInt32BE(60, 6); // TTL
      rr.writeUInt16BE(rdata.length, 10);
      records.push(rr, rdata);
    }
  }
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // ID
  header.writeUInt16BE(0x8180 | (query[2] & 0x01 ? 0x0100 : 0) | rcode, 2); // QR, RD, RA, RCODE
  header.writeUInt16BE(1, 4); // QDCOUNT
  header.writeUInt16BE(records.length / 2, 6); // ANCOUNT
  return Buffer.concat([header, query.subarray(12, end), ...records]);
}

let server: Socket;
let port: number;

beforeAll(async () => {
  server = createSocket('udp4');
  server.on('message', (msg, rinfo) => {
    const reply = answer(msg);
    if (reply !== undefined) server.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((done) => server.bind(0, '127.0.0.1', () => done()));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => {
  server.close();
});

describe('createNodeResolver against a local DNS server', () => {
  const resolver = () =>
    createNodeResolver({ servers: [`127.0.0.1:${port}`], timeoutMs: 150, tries: 1 });
  const policy = new TargetPolicy();

  it('resolves A and AAAA', async () => {
    const r = resolver();
    expect(await r.resolve4('ok.test')).toEqual(['192.0.2.1']);
    expect(await r.resolve6('ok.test')).toEqual(['2001:db8::1']);
  });

  it.each([
    ['nx.test', 'ENOTFOUND'],
    ['fail.test', 'ESERVFAIL'],
    ['refused.test', 'EREFUSED'],
    ['nodata.test', 'ENODATA'],
    ['slow.test', 'ETIMEOUT'],
  ])('%s rejects with %s', async (name, code) => {
    await expect(resolver().resolve4(name)).rejects.toMatchObject({ code });
  });

  it.each([
    ['nx.test', 502, 'dns_error', 'NXDOMAIN'],
    ['fail.test', 502, 'dns_error', 'SERVFAIL'],
    ['refused.test', 502, 'dns_error', 'REFUSED'],
    ['slow.test', 504, 'dns_timeout', undefined],
    ['mixed.test', 502, 'destination_ip_prohibited', undefined],
  ])('resolveTarget(%s) -> %d %s', async (name, status, error, rcode) => {
    const r = await resolveTarget(parseTarget(name, '443'), {
      resolver: resolver(),
      policy,
      proxyName: 'p',
    });
    expect(r).toMatchObject({ ok: false, status, error });
    if (!r.ok) expect(r.proxyStatus.rcode).toBe(rcode);
  });
});
