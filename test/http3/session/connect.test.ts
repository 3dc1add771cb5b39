/**
 * CONNECT and extended CONNECT (RFC 9114 §4.4, RFC 9220), HTTP/3 datagrams (RFC 9297 §2) and
 * capsules (RFC 9297 §3) through two sessions.
 */
import { describe, expect, it } from 'vitest';
import { CapsuleType, greaseCapsuleType } from '../../../src/capsule/types.js';
import { H3ErrorCode } from '../../../src/http3/errors.js';
import { DatagramTooLargeError } from '../../../src/quic/api.js';
import { SeededRandom } from '../../../src/util/random.js';
import { concatBytes, fromHex } from '../../../src/wire/hex.js';
import {
  body,
  connect,
  dataFrame,
  GET_HEADERS,
  headersFrame,
  ofType,
  onStream,
  rawPeer,
} from './harness.js';

const udp = (host: string): Array<[string, string]> => [
  [':method', 'CONNECT'],
  [':protocol', 'connect-udp'],
  [':scheme', 'https'],
  [':authority', 'proxy.example'],
  [':path', `/.well-known/masque/udp/${host}/443/`],
  ['capsule-protocol', '?1'],
];

const BOTH = { enableConnectProtocol: true, h3Datagram: true };

/** A client and server with extended CONNECT and datagrams, and `n` connect-udp streams up. */
function tunnels(n: number, quic = {}) {
  const c = connect({ client: { h3Datagram: true }, server: BOTH, quic });
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(c.client.request(udp(`192.0.2.${i + 1}`)));
  const ev = c.pump();
  const reqs = ofType(ev.server, 'request');
  expect(reqs.map((r) => r.protocol)).toEqual(ids.map(() => 'connect-udp'));
  for (const id of ids)
    c.server.respond(id, [
      [':status', '200'],
      ['capsule-protocol', '?1'],
    ]);
  const back = c.pump();
  expect(ofType(back.client, 'headers').map((h) => h.status)).toEqual(ids.map(() => 200));
  return { c, ids };
}

describe('extended CONNECT (RFC 9220)', () => {
  it('the client may send :protocol only after the server enabled it', () => {
    const off = connect({ noStart: true });
    off.client.start();
    expect(() => off.client.request(udp('192.0.2.1'))).toThrow(
      expect.objectContaining({ code: 'SETTINGS_PENDING' }),
    );
    off.server.start();
    off.pump();
    expect(() => off.client.request(udp('192.0.2.1'))).toThrow(
      expect.objectContaining({ code: 'EXTENDED_CONNECT_DISABLED' }),
    );
    const on = connect({ server: { enableConnectProtocol: true } });
    expect(on.client.peerSettings?.enableConnectProtocol).toBe(true);
    const id = on.client.request(udp('192.0.2.1'));
    expect(ofType(on.pump().server, 'request')[0]).toMatchObject({
      streamId: id,
      protocol: 'connect-udp',
      path: '/.well-known/masque/udp/192.0.2.1/443/',
    });
  });

  it('plain CONNECT carries :authority only and tunnels DATA both ways (§4.4)', () => {
    const c = connect();
    const id = c.client.request([
      [':method', 'CONNECT'],
      [':authority', 'example.com:443'],
    ]);
    const req = ofType(c.pump().server, 'request')[0];
    expect(req).toMatchObject({ method: 'CONNECT', authority: 'example.com:443' });
    expect(req.path).toBeUndefined();
    c.server.respond(id, [[':status', '200']]);
    c.client.sendData(id, new Uint8Array([1, 2]));
    c.server.sendData(id, new Uint8Array([3]));
    const ev = c.pump();
    expect(ofType(ev.server, 'data')[0].data).toEqual(new Uint8Array([1, 2]));
    expect(ofType(ev.client, 'data')[0].data).toEqual(new Uint8Array([3]));
    expect(() => c.server.sendTrailers(id, [['x', '1']])).toThrow(
      expect.objectContaining({ code: 'INVALID_STATE' }),
    );
  });

  it('a HEADERS frame after a CONNECT 2xx is H3_FRAME_UNEXPECTED (§4.4)', () => {
    const p = rawPeer('client');
    p.control();
    p.pump();
    const id = p.session.request([
      [':method', 'CONNECT'],
      [':authority', 'h:1'],
    ]);
    p.pump();
    p.raw.writeStream(
      id,
      concatBytes(headersFrame([[':status', '200']]), headersFrame([['x', '1']])),
    );
    p.pump();
    expect(p.closeCode()).toBe(H3ErrorCode.H3_FRAME_UNEXPECTED);
  });
});

describe('HTTP/3 datagrams (RFC 9297 §2)', () => {
  it('1,000 datagrams each way over 3 concurrent CONNECT streams are demultiplexed by Quarter Stream ID', () => {
    const { c, ids } = tunnels(3);
    expect(c.client.datagramsEnabled && c.server.datagramsEnabled).toBe(true);
    const rng = new SeededRandom(42);
    const sent: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const k = rng.nextU32() % 3;
      const payload = concatBytes(
        new Uint8Array([k, i >> 8, i & 0xff]),
        body(rng.nextU32() % 200, i),
      );
      expect(c.client.sendDatagram(ids[k], payload)).toBe(true);
      sent.push(`${ids[k]}:${i}`);
    }
    const atServer = ofType(c.pump().server, 'datagram');
    expect(atServer).toHaveLength(1000);
    for (const d of atServer) {
      // The stream the datagram was sent on is encoded in its first byte.
      expect(d.streamId).toBe(ids[d.payload[0]]);
      c.server.sendDatagram(d.streamId, d.payload.slice());
    }
    const atClient = ofType(c.pump().client, 'datagram');
    expect(atClient.map((d) => `${d.streamId}:${(d.payload[1] << 8) | d.payload[2]}`)).toEqual(
      sent,
    );
  });

  it('lost datagrams stay lost (no retransmission), the rest arrive', () => {
    const { c, ids } = tunnels(1, { datagramLoss: 0.25 });
    for (let i = 0; i < 400; i++) c.client.sendDatagram(ids[0], new Uint8Array([i & 0xff]));
    const n = ofType(c.pump().server, 'datagram').length;
    expect(n).toBeGreaterThan(200);
    expect(n).toBeLessThan(400);
  });

  it('a datagram that arrives before its request HEADERS is buffered, then delivered after the request', () => {
    const p = rawPeer('server', { session: BOTH });
    p.control({ h3Datagram: true });
    p.pump();
    // Quarter Stream ID 1 = stream 4, before stream 4 exists; and one for stream 0.
    p.raw.sendDatagram(fromHex('01aa'));
    p.raw.sendDatagram(fromHex('01bb'));
    p.raw.sendDatagram(fromHex('00cc'));
    p.pump();
    expect(p.session.stats.bufferedDatagrams).toBe(3);
    const s0 = p.raw.openStream(true)!;
    const s4 = p.raw.openStream(true)!;
    p.raw.writeStream(s4, headersFrame(udp('192.0.2.9').slice(0, 5)));
    const ev = p.pump();
    expect(onStream(ev, s4).map((e) => e.type)).toEqual(['request', 'datagram', 'datagram']);
    expect(ofType(ev, 'datagram').map((d) => d.payload[0])).toEqual([0xaa, 0xbb]);
    expect(p.session.stats.bufferedDatagrams).toBe(1);
    expect(s0).toBe(0);
  });

  it('a client buffers datagrams that beat the response HEADERS', () => {
    const p = rawPeer('client', { session: { h3Datagram: true } });
    p.control({ h3Datagram: true, enableConnectProtocol: true });
    p.pump();
    const id = p.session.request(udp('192.0.2.1'));
    p.pump();
    p.raw.sendDatagram(fromHex('0001'));
    expect(ofType(p.pump(), 'datagram')).toEqual([]);
    p.raw.writeStream(id, headersFrame([[':status', '200']]));
    expect(p.pump().map((e) => e.type)).toEqual(['headers', 'datagram']);
  });

  it('datagrams for finished streams are dropped', () => {
    const { c, ids } = tunnels(1);
    c.client.resetRequest(ids[0]);
    c.pump();
    c.pair.client.sendDatagram(fromHex('0005'));
    expect(ofType(c.pump().server, 'datagram')).toEqual([]);
    expect(c.server.stats.bufferedDatagrams).toBe(0);
    // The sending side checks too: nothing is sent for a stream that is gone.
    expect(c.client.sendDatagram(ids[0], new Uint8Array(1))).toBe(false);
  });

  it('datagrams need SETTINGS_H3_DATAGRAM=1 on both sides and room in the transport', () => {
    const half = connect({ client: { h3Datagram: true }, server: { enableConnectProtocol: true } });
    const id = half.client.request(udp('192.0.2.1'));
    half.pump();
    expect(half.client.datagramsEnabled).toBe(false);
    expect(() => half.client.sendDatagram(id, new Uint8Array(1))).toThrow(
      expect.objectContaining({ code: 'DATAGRAMS_UNAVAILABLE' }),
    );
    // The server never offered datagrams: one that arrives anyway is dropped silently.
    half.pair.client.sendDatagram(fromHex('0001'));
    expect(ofType(half.pump().server, 'datagram')).toEqual([]);
    expect(half.pair.server.closeInfo).toBeUndefined();

    const none = connect({
      client: { h3Datagram: true },
      server: BOTH,
      quic: { maxDatagramPayload: 0 },
    });
    expect(none.client.datagramsEnabled).toBe(false);

    const { c, ids } = tunnels(1);
    expect(() => c.client.sendDatagram(ids[0], new Uint8Array(1300))).toThrow(
      DatagramTooLargeError,
    );
  });

  it('the legacy draft setting 0xffd277 counts only with acceptLegacyH3Datagram', () => {
    for (const accept of [false, true]) {
      const p = rawPeer('client', {
        session: { h3Datagram: true, acceptLegacyH3Datagram: accept },
      });
      p.control({ legacyH3Datagram: 1 });
      p.pump();
      expect(p.session.datagramsEnabled).toBe(accept);
    }
    // Sessions that accept it also send it (next to 0x33).
    const c = connect({
      client: { h3Datagram: true, acceptLegacyH3Datagram: true },
      server: { h3Datagram: true },
    });
    expect(c.server.peerSettings?.unknownIds).not.toContain(0xffd277n);
    expect(c.server.peerSettings?.h3Datagram).toBe(true);
  });
});

describe('capsules (RFC 9297 §3)', () => {
  const TYPE = 0x1f00;
  const known = { known: [[TYPE, 4096]] as Array<[number, number]> };

  it('capsules flow both ways, split at random, unknown types skipped', () => {
    for (const seed of [1, 2, 3]) {
      const { c, ids } = tunnels(1, { chunking: 'random', maxChunk: 11, seed });
      const id = ids[0];
      c.client.enableCapsules(id, known);
      c.server.enableCapsules(id, known);
      const rng = new SeededRandom(seed);
      const expected: string[] = [];
      for (let i = 0; i < 60; i++) {
        const value = body(rng.nextU32() % 300, i);
        const kind = rng.nextU32() % 3;
        if (kind === 2) {
          c.client.sendCapsule(id, greaseCapsuleType(i), value); // skipped by the receiver
          continue;
        }
        const type = kind === 0 ? CapsuleType.DATAGRAM : TYPE;
        c.client.sendCapsule(id, type, value);
        c.server.sendCapsule(id, type, value);
        expected.push(`${type}:${value.length}:${value[0] ?? -1}`);
      }
      const ev = c.pump();
      const show = (e: { capsule: { type: number; value: Uint8Array } }) =>
        `${e.capsule.type}:${e.capsule.value.length}:${e.capsule.value[0] ?? -1}`;
      expect(ofType(ev.server, 'capsule').map(show)).toEqual(expected);
      expect(ofType(ev.client, 'capsule').map(show)).toEqual(expected);
      expect(ofType(ev.server, 'data')).toEqual([]);
    }
  });

  it('a capsule above its cap, or one cut short by FIN, aborts the stream with H3_DATAGRAM_ERROR (§3.3)', () => {
    for (const [bytes, fin] of [
      [dataFrame(fromHex('5f00 5001')), false], // type 0x1f00, length 4097 > cap: refused at once
      [dataFrame(fromHex('5f00 05 0102')), true], // 2 of 5 value bytes, then FIN
    ] as const) {
      const p = rawPeer('server', { session: BOTH });
      p.control();
      const id = p.raw.openStream(true)!;
      p.raw.writeStream(id, headersFrame(udp('192.0.2.1')));
      const req = ofType(p.pump(), 'request')[0];
      p.session.enableCapsules(req.streamId, known);
      p.raw.writeStream(id, bytes, fin);
      const ev = p.pump();
      expect(ofType(ev, 'stream-error')).toEqual([
        expect.objectContaining({ streamId: id, code: H3ErrorCode.H3_DATAGRAM_ERROR }),
      ]);
      expect(p.closeCode()).toBeUndefined();
    }
  });

  it('capsuleMode decides at the header section: capsules in the same packet are parsed (§3.2)', () => {
    const heads: Array<{ role: string; protocol?: string; streamId: number }> = [];
    const p = rawPeer('server', {
      session: {
        ...BOTH,
        capsuleMode: (h) => {
          heads.push({ role: h.role, protocol: h.protocol, streamId: h.streamId });
          return h.protocol === 'connect-udp' ? known : undefined;
        },
      },
    });
    p.control();
    const id = p.raw.openStream(true)!;
    // The request's HEADERS and two capsules (a DATAGRAM and a known type) in one write.
    p.raw.writeStream(
      id,
      concatBytes(
        headersFrame(udp('192.0.2.1')),
        dataFrame(fromHex('00 03 00abcd')),
        dataFrame(fromHex('5f00 01 07')),
      ),
    );
    const ev = p.pump();
    expect(heads).toEqual([{ role: 'server', protocol: 'connect-udp', streamId: id }]);
    expect(ofType(ev, 'request')[0]).toMatchObject({ streamId: id, capsules: true });
    expect(ofType(ev, 'data')).toEqual([]);
    expect(ofType(ev, 'capsule').map((e) => [e.capsule.type, [...e.capsule.value]])).toEqual([
      [CapsuleType.DATAGRAM, [0x00, 0xab, 0xcd]],
      [TYPE, [0x07]],
    ]);
    // A malformed capsule is a stream error of that stream only.
    p.raw.writeStream(id, dataFrame(fromHex('5f00 5001')));
    expect(ofType(p.pump(), 'stream-error')).toEqual([
      expect.objectContaining({ streamId: id, code: H3ErrorCode.H3_DATAGRAM_ERROR }),
    ]);
    expect(p.closeCode()).toBeUndefined();
  });

  it('every capsule skipped unread is reported: unknown types and oversize DATAGRAMs (§3.2, §3.5)', () => {
    const p = rawPeer('server', {
      session: { ...BOTH, capsuleMode: () => ({ maxDatagramLength: 4 }) },
    });
    p.control();
    const id = p.raw.openStream(true)!;
    p.raw.writeStream(
      id,
      concatBytes(
        headersFrame(udp('192.0.2.1')),
        dataFrame(fromHex('5f00 02 abcd')), // a type nobody registered
        dataFrame(fromHex('00 05 0001020304')), // a DATAGRAM above its 4-byte cap
        dataFrame(fromHex('00 02 00ff')),
      ),
    );
    const ev = p.pump();
    expect(ofType(ev, 'capsule-discarded')).toEqual([
      {
        type: 'capsule-discarded',
        streamId: id,
        capsuleType: 0x1f00,
        length: 2,
        reason: 'unknown-type',
      },
      {
        type: 'capsule-discarded',
        streamId: id,
        capsuleType: 0,
        length: 5,
        reason: 'oversize-datagram',
      },
    ]);
    expect(ofType(ev, 'capsule').map((e) => [...e.capsule.value])).toEqual([[0x00, 0xff]]);
  });

  it('capsuleMode is asked for tunnels only, and its undefined leaves DATA as DATA', () => {
    const asked: number[] = [];
    const p = rawPeer('server', {
      session: {
        ...BOTH,
        capsuleMode: (h) => {
          asked.push(h.streamId);
          return undefined;
        },
      },
    });
    p.control();
    const get = p.raw.openStream(true)!;
    p.raw.writeStream(get, headersFrame(GET_HEADERS), true);
    const tunnel = p.raw.openStream(true)!;
    p.raw.writeStream(
      tunnel,
      concatBytes(headersFrame(udp('192.0.2.1')), dataFrame(fromHex('00 01 00'))),
    );
    const ev = p.pump();
    expect(asked).toEqual([tunnel]);
    expect(ofType(ev, 'request').map((r) => r.capsules)).toEqual([undefined, undefined]);
    expect(
      ofType(ev, 'data')
        .filter((d) => d.data.length > 0)
        .map((d) => d.streamId),
    ).toEqual([tunnel]);
  });

  it('a client asks capsuleMode at a 2xx to its extended CONNECT only', () => {
    const asked: Array<[string, number]> = [];
    const c = connect({
      client: {
        h3Datagram: true,
        capsuleMode: (h) => {
          asked.push([h.role, h.streamId]);
          return known;
        },
      },
      server: BOTH,
    });
    const refused = c.client.request(udp('192.0.2.1'));
    const ok = c.client.request(udp('192.0.2.2'));
    c.pump();
    c.server.respond(refused, [[':status', '403']]);
    c.server.respond(ok, [
      [':status', '200'],
      ['capsule-protocol', '?1'],
    ]);
    c.server.sendCapsule(ok, TYPE, fromHex('01'));
    const ev = c.pump();
    expect(asked).toEqual([['client', ok]]);
    const heads = ofType(ev.client, 'headers').sort((a, b) => a.status - b.status);
    expect(heads.map((h) => [h.status, h.capsules])).toEqual([
      [200, true],
      [403, undefined],
    ]);
    expect(ofType(ev.client, 'capsule').map((e) => e.streamId)).toEqual([ok]);
  });

  it('capsule mode is per stream: other streams still see DATA', () => {
    const { c, ids } = tunnels(2);
    c.server.enableCapsules(ids[0]);
    c.client.sendData(ids[0], fromHex('00 02 abcd'));
    c.client.sendData(ids[1], fromHex('00 02 abcd'));
    const ev = c.pump();
    expect(ofType(ev.server, 'capsule').map((e) => e.streamId)).toEqual([ids[0]]);
    expect(ofType(ev.server, 'data').map((e) => e.streamId)).toEqual([ids[1]]);
    expect(GET_HEADERS).toHaveLength(4);
  });
});
