import { describe, expect, it } from 'vitest';
import { parseFrames } from '../../../src/quic/frames/index.js';
import {
  decodeTransportParameters,
  encodeTransportParameters,
  resolveTransportParameters,
} from '../../../src/quic/transport-params/index.js';
import { ByteReader, fromHex, toHex } from '../../../src/wire/index.js';
import { RFC9001_A2_CRYPTO } from '../../support/rfc9001-vectors.js';

/** Walks the ClientHello (RFC 9846 §4.1.2) to the extension of the given type. */
function clientHelloExtension(hello: Uint8Array, extensionType: number): Uint8Array {
  const r = new ByteReader(hello);
  expect(r.u8()).toBe(1); // msg_type client_hello
  const body = r.sub(r.u24());
  r.expectEnd();
  body.u16(); // legacy_version
  body.skip(32); // random
  body.vec8(); // legacy_session_id
  body.vec16(); // cipher_suites
  body.vec8(); // legacy_compression_methods
  const exts = body.sub(body.u16());
  body.expectEnd();
  while (!exts.done) {
    const type = exts.u16();
    const data = exts.vec16();
    if (type === extensionType) return data;
  }
  throw new Error(`extension 0x${extensionType.toString(16)} not found`);
}

describe('RFC 9001 A.2: quic_transport_parameters (0x0039) of the client Initial', () => {
  const [crypto] = parseFrames(RFC9001_A2_CRYPTO, 'I');
  if (crypto.kind !== 'CRYPTO') throw new Error('expected CRYPTO');
  const tp = clientHelloExtension(crypto.data, 0x0039);

  it('is the 50-byte value at the end of the ClientHello', () => {
    expect(toHex(tp)).toBe(
      '0408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e515708' +
        '06048000ffff',
    );
  });

  it('decodes with the expected fields', () => {
    const p = decodeTransportParameters(tp, 'client');
    expect(p).toEqual({
      initialMaxData: Number.MAX_SAFE_INTEGER, // 2^62 - 1, clamped: unlimited
      initialMaxStreamDataBidiLocal: 65535,
      initialMaxStreamDataUni: 65535,
      initialMaxStreamsBidi: 16,
      maxIdleTimeout: 30000,
      initialMaxStreamsUni: 16,
      initialSourceConnectionId: fromHex('8394c8f03e515708'),
      initialMaxStreamDataBidiRemote: 65535,
      unknown: [],
      order: [0x04n, 0x05n, 0x07n, 0x08n, 0x01n, 0x09n, 0x0fn, 0x06n],
    });
    const resolved = resolveTransportParameters(p);
    expect(resolved).toMatchObject({
      ackDelayExponent: 3,
      maxAckDelay: 25,
      maxUdpPayloadSize: 65527,
      activeConnectionIdLimit: 2,
      maxDatagramFrameSize: 0,
      disableActiveMigration: false,
      initialMaxStreamsBidi: 16,
    });
  });

  it('re-encodes to the same bytes with the same identifier order', () => {
    const p = decodeTransportParameters(tp, 'client');
    expect(toHex(encodeTransportParameters(p, { order: p.order }))).toBe(toHex(tp));
  });

  it('without an order, identifiers are written in ascending order', () => {
    const p = decodeTransportParameters(tp, 'client');
    const again = decodeTransportParameters(encodeTransportParameters(p), 'client');
    expect(again.order).toEqual([0x01n, 0x04n, 0x05n, 0x06n, 0x07n, 0x08n, 0x09n, 0x0fn]);
    expect({ ...again, order: [] }).toEqual({ ...p, order: [] });
  });
});
