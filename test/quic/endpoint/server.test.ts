import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import {
  isReservedVersion,
  LongPacketType,
  parseLongHeader,
  parseRetry,
  parseVersionNegotiation,
  QUIC_V1,
} from '../../../src/quic/packet/index.js';
import { AddressTokens } from '../../../src/quic/path/index.js';
import {
  INITIAL_SUITE,
  initialSecrets,
  PacketProtector,
  verifyRetryTag,
} from '../../../src/quic/protection/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { bytesEqual, toHex } from '../../../src/wire/index.js';
import { cid, clientInitial, drain, longDatagram, otherVersionDatagram } from './fakes.js';
import { harness } from './setup.js';

const CLIENT = '203.0.113.5:50000';
const ODCID = cid(0xd0);
const CSCID = cid(0xc5, 5);

/** Opens a server Initial with the Initial keys of `clientDcid` and returns its plaintext. */
function openServerInitial(packet: Uint8Array, clientDcid: Uint8Array): Uint8Array {
  const h = parseLongHeader(packet);
  const p = PacketProtector.fromSecret(INITIAL_SUITE, initialSecrets(clientDcid).server);
  const copy = packet.slice(0, h.packetEnd);
  const opened = p.open(copy, h.pnOffset, -1);
  return copy.subarray(opened.payloadOffset, opened.payloadOffset + opened.payloadLength);
}

describe('accepting a connection (RFC 9000 §5.2.2, §7.2, §14.1)', () => {
  it('a 1200-byte client Initial creates a server connection that receives it', () => {
    const { ep, servers } = harness();
    const dgram = clientInitial(ODCID, CSCID);
    ep.receive(dgram, CLIENT, 5);
    expect(servers).toHaveLength(1);
    const s = servers[0];
    expect(s.info).toEqual({
      dcid: ODCID,
      scid: CSCID,
      token: new Uint8Array(0),
      version: QUIC_V1,
      originalDcid: ODCID,
      retrySourceCid: undefined,
      addressValidated: false,
    });
    expect(s.received).toEqual([{ datagram: dgram, remote: CLIENT, now: 5 }]);
    expect(ep.pollEvent()).toEqual({ type: 'connection', conn: s });
  });

  it('an Initial that does not decrypt under its DCID keys creates nothing (RFC 9001 §5.2)', () => {
    const { ep, servers } = harness();
    // A well-formed header with an unprotected payload, a flipped tag bit, and another DCID's keys.
    const forged = longDatagram({ dcid: ODCID, scid: CSCID });
    const tampered = clientInitial(ODCID, CSCID);
    tampered[tampered.length - 1] ^= 1;
    const otherKeys = clientInitial(cid(0xd1), CSCID);
    otherKeys.set(ODCID, 6); // same length, so only the key derivation differs
    for (const d of [forged, tampered, otherKeys]) ep.receive(d, CLIENT, 0);
    expect(servers).toHaveLength(0);
    expect(ep.pollEvent()).toBeUndefined();
    expect(ep.stats().dropped['initial-undecryptable']).toBe(3);
    // The genuine one still gets through.
    ep.receive(clientInitial(ODCID, CSCID), CLIENT, 1);
    expect(servers).toHaveLength(1);
  });

  it("a retransmitted Initial with the client's DCID reaches the same connection", () => {
    const { ep, servers } = harness();
    ep.receive(clientInitial(ODCID, CSCID), CLIENT, 0);
    ep.receive(clientInitial(ODCID, CSCID), CLIENT, 100);
    // and a 0-RTT packet with that DCID
    ep.receive(
      longDatagram({ type: LongPacketType.ZeroRtt, dcid: ODCID, scid: CSCID, size: 300 }),
      CLIENT,
      101,
    );
    expect(servers).toHaveLength(1);
    expect(servers[0].received).toHaveLength(3);
  });

  it('an Initial in a datagram under 1200 bytes is discarded (§14.1)', () => {
    const { ep, servers } = harness();
    ep.receive(clientInitial(ODCID, CSCID, undefined, 1199), CLIENT, 0);
    expect(servers).toHaveLength(0);
    expect(ep.stats().dropped['initial-too-small']).toBe(1);
    expect(drain(ep)).toEqual([]);
  });

  it('an Initial whose DCID is shorter than 8 bytes is discarded (§7.2)', () => {
    const { ep, servers } = harness();
    ep.receive(clientInitial(cid(1, 7), CSCID), CLIENT, 0);
    expect(servers).toHaveLength(0);
    expect(ep.stats().dropped['initial-short-dcid']).toBe(1);
  });

  it('Handshake and 0-RTT packets for no connection are dropped, not buffered', () => {
    const { ep, servers } = harness();
    for (const type of [LongPacketType.ZeroRtt, LongPacketType.Handshake]) {
      ep.receive(longDatagram({ type, dcid: ODCID, scid: CSCID }), CLIENT, 0);
    }
    expect(servers).toHaveLength(0);
    expect(ep.stats().dropped['unrouted-long-header']).toBe(2);
  });

  it('a client-only endpoint accepts nothing', () => {
    const { ep, servers } = harness({ createServerConnection: undefined });
    ep.receive(clientInitial(ODCID, CSCID), CLIENT, 0);
    ep.receive(otherVersionDatagram(0x1a2a3a4a, ODCID, CSCID), CLIENT, 0);
    expect(servers).toHaveLength(0);
    expect(ep.stats().dropped['not-accepting']).toBe(1);
    expect(ep.stats().dropped['unsupported-version']).toBe(1);
    expect(drain(ep)).toEqual([]);
  });

  it('beyond maxConnections an Initial is refused with CONNECTION_REFUSED in an Initial (§5.2.2)', () => {
    const { ep, servers } = harness({ maxConnections: 1 });
    ep.receive(clientInitial(ODCID, CSCID), CLIENT, 0);
    ep.receive(clientInitial(cid(0xd1), cid(0xc6)), CLIENT, 0);
    expect(servers).toHaveLength(1);
    const [t] = drain(ep);
    expect(t.to).toBe(CLIENT);
    const h = parseLongHeader(t.data);
    expect(h.type).toBe(LongPacketType.Initial);
    expect(h.dcid).toEqual(cid(0xc6));
    // CONNECTION_CLOSE 0x1c, error CONNECTION_REFUSED (0x02), frame type 0, empty reason.
    expect(toHex(openServerInitial(t.data, cid(0xd1)))).toBe('1c020000');
    expect(ep.stats().dropped['connection-limit']).toBe(1);
    expect(ep.stats().refusalsSent).toBe(1);
  });
});

describe('Version Negotiation (RFC 9000 §6.1, §17.2.1)', () => {
  it('answers an unsupported version in a 1200-byte datagram, CIDs swapped, greased', () => {
    const { ep, servers } = harness();
    ep.receive(otherVersionDatagram(0xff00_001d, ODCID, CSCID), CLIENT, 0);
    expect(servers).toHaveLength(0);
    const [t] = drain(ep);
    expect(t.to).toBe(CLIENT);
    const vn = parseVersionNegotiation(t.data);
    expect(vn.dcid).toEqual(CSCID);
    expect(vn.scid).toEqual(ODCID);
    expect(vn.versions[0]).toBe(QUIC_V1);
    expect(vn.versions).toHaveLength(2);
    expect(isReservedVersion(vn.versions[1])).toBe(true);
    expect(vn.firstByte & 0xc0).toBe(0xc0);
    expect(ep.stats().vnSent).toBe(1);
  });

  it('drops an unsupported version in a smaller datagram (§5.2.2 MUST)', () => {
    const { ep } = harness();
    ep.receive(otherVersionDatagram(0xff00_001d, ODCID, CSCID, 1199), CLIENT, 0);
    expect(drain(ep)).toEqual([]);
    expect(ep.stats().dropped['unsupported-version-small']).toBe(1);
  });

  it('limits Version Negotiation packets (§6.1 MAY): a burst, then a steady rate; the rest dropped and counted', () => {
    const { ep } = harness();
    for (let i = 0; i < 30; i++)
      ep.receive(otherVersionDatagram(0xff00_001d, ODCID, CSCID, 1300), CLIENT, 0);
    expect(drain(ep)).toHaveLength(20);
    expect(ep.stats().vnSent).toBe(20);
    expect(ep.stats().dropped['version-negotiation-rate-limited']).toBe(10);
    // 100 per second refill: 50 ms later there is room for five more.
    for (let i = 0; i < 10; i++)
      ep.receive(otherVersionDatagram(0xff00_001d, ODCID, CSCID, 1300), CLIENT, 50);
    expect(drain(ep)).toHaveLength(5);
  });

  it('never answers a Version Negotiation packet (§6.1 MUST NOT)', () => {
    const { ep } = harness();
    ep.receive(otherVersionDatagram(0, ODCID, CSCID, 1300), CLIENT, 0);
    expect(drain(ep)).toEqual([]);
    expect(ep.stats().dropped['unrouted-version-negotiation']).toBe(1);
  });

  it('echoes CIDs of any length 0..255 that other versions may use', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 255 }),
        fc.uint8Array({ maxLength: 255 }),
        fc.integer({ min: 2, max: 0xffff_ffff }).filter((v) => v !== QUIC_V1),
        (dcid, scid, version) => {
          const { ep } = harness();
          ep.receive(otherVersionDatagram(version, dcid, scid), CLIENT, 0);
          const [t] = drain(ep);
          const vn = parseVersionNegotiation(t.data);
          return bytesEqual(vn.dcid, scid) && bytesEqual(vn.scid, dcid);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('Retry and address validation (RFC 9000 §8.1, §17.2.5)', () => {
  function retryOf(data: Uint8Array) {
    return parseRetry(data);
  }

  it('issues a Retry, then accepts the retried Initial with originalDcid and retrySourceCid', () => {
    const { ep, servers } = harness({ retry: 'always' });
    ep.receive(clientInitial(ODCID, CSCID), CLIENT, 1000);
    expect(servers).toHaveLength(0);
    const [t] = drain(ep);
    expect(t.to).toBe(CLIENT);
    const retry = retryOf(t.data);
    expect(retry.dcid).toEqual(CSCID);
    expect(retry.scid).toHaveLength(8);
    expect(bytesEqual(retry.scid, ODCID)).toBe(false);
    expect(retry.token.length).toBeGreaterThan(0);
    // RFC 9001 §5.8: the tag covers the client's original DCID.
    expect(verifyRetryTag(ODCID, t.data)).toBe(true);
    expect(ep.stats().retrySent).toBe(1);

    // The client repeats its Initial to the Retry's SCID with the token.
    const retried = clientInitial(retry.scid, CSCID, retry.token);
    ep.receive(retried, CLIENT, 1100);
    expect(servers).toHaveLength(1);
    expect(servers[0].info).toMatchObject({
      dcid: retry.scid,
      originalDcid: ODCID,
      retrySourceCid: retry.scid,
      addressValidated: true,
    });
    expect(servers[0].received[0].datagram).toEqual(retried);
  });

  it('a Retry token from another port is refused with INVALID_TOKEN, never a second Retry (§8.1.2)', () => {
    const { ep, servers } = harness({ retry: 'always' });
    ep.receive(clientInitial(ODCID, CSCID), CLIENT, 0);
    const retry = retryOf(drain(ep)[0].data);
    ep.receive(clientInitial(retry.scid, CSCID, retry.token), '203.0.113.5:50001', 10);
    expect(servers).toHaveLength(0);
    const [t] = drain(ep);
    expect(parseLongHeader(t.data).type).toBe(LongPacketType.Initial);
    expect(toHex(openServerInitial(t.data, retry.scid))).toBe(
      `1c${TransportErrorCode.INVALID_TOKEN.toString(16).padStart(2, '0')}0000`,
    );
    expect(ep.stats().retrySent).toBe(1);
    expect(ep.stats().dropped['invalid-retry-token']).toBe(1);
  });

  it('an expired Retry token is refused the same way (§8.1.4: only accepted for a short time)', () => {
    const { ep, servers } = harness({ retry: 'always' });
    ep.receive(clientInitial(ODCID, CSCID), CLIENT, 0);
    const retry = retryOf(drain(ep)[0].data);
    ep.receive(clientInitial(retry.scid, CSCID, retry.token), CLIENT, 10_001);
    expect(servers).toHaveLength(0);
    expect(ep.stats().dropped['invalid-retry-token']).toBe(1);
  });

  it('a Retry token presented with a DCID other than the Retry SCID is refused', () => {
    const { ep, servers } = harness({ retry: 'always' });
    ep.receive(clientInitial(ODCID, CSCID), CLIENT, 0);
    const retry = retryOf(drain(ep)[0].data);
    ep.receive(clientInitial(cid(0x77), CSCID, retry.token), CLIENT, 5);
    expect(servers).toHaveLength(0);
    expect(ep.stats().dropped['invalid-retry-token']).toBe(1);
  });

  it('an unknown token is treated as no token: Retry again (§8.1.3)', () => {
    const { ep, servers } = harness({ retry: 'always' });
    const junk = new Uint8Array(40).fill(0x02);
    ep.receive(clientInitial(ODCID, CSCID, junk), CLIENT, 0);
    expect(servers).toHaveLength(0);
    const [t] = drain(ep);
    expect(retryOf(t.data).dcid).toEqual(CSCID);
  });

  it('an unknown token without a Retry policy yields an unvalidated connection', () => {
    const { ep, servers } = harness();
    ep.receive(clientInitial(ODCID, CSCID, new Uint8Array(40).fill(0x02)), CLIENT, 0);
    expect(servers[0].info?.addressValidated).toBe(false);
  });

  it('a NEW_TOKEN token validates the address from any port of the same host, skipping Retry', () => {
    const random = new SeededRandom(3);
    const tokens = new AddressTokens(new Uint8Array(16).fill(9), random);
    const { ep, servers } = harness({ retry: 'always', addressTokens: tokens });
    const token = ep.issueNewToken('203.0.113.5:40000', 0);
    ep.receive(clientInitial(ODCID, CSCID, token), CLIENT, 60_000);
    expect(servers).toHaveLength(1);
    expect(servers[0].info).toMatchObject({ addressValidated: true, retrySourceCid: undefined });
    // From another host it is no proof: Retry.
    ep.receive(clientInitial(cid(0xd2), CSCID, token), '198.51.100.9:40000', 60_000);
    expect(servers).toHaveLength(1);
    expect(ep.stats().retrySent).toBe(1);
  });

  it("'under-load' demands Retry only while half-open connections reach the threshold", () => {
    const { ep, servers } = harness({ retry: 'under-load', retryLoadThreshold: 2 });
    ep.receive(clientInitial(cid(0xd1), CSCID), CLIENT, 0);
    ep.receive(clientInitial(cid(0xd2), CSCID), CLIENT, 0);
    expect(servers).toHaveLength(2);
    ep.receive(clientInitial(cid(0xd3), CSCID), CLIENT, 0);
    expect(servers).toHaveLength(2);
    expect(ep.stats().retrySent).toBe(1);
    // The handshake completes as the connection works (here: an application call, then a flush).
    servers[0].state = 'established';
    ep.markActive(servers[0]);
    drain(ep);
    ep.receive(clientInitial(cid(0xd4), CSCID), CLIENT, 0);
    expect(servers).toHaveLength(3);
  });

  it("'never' accepts without Retry", () => {
    const { ep, servers } = harness({ retry: 'never' });
    ep.receive(clientInitial(ODCID, CSCID), CLIENT, 0);
    expect(servers).toHaveLength(1);
    expect(ep.stats().retrySent).toBe(0);
  });
});
