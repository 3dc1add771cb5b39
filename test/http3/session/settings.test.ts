/** Connection setup: our unidirectional streams and the SETTINGS exchange (RFC 9114 §6.2, §7.2.4). */
import { describe, expect, it } from 'vitest';
import { readFrames } from '../../../src/http3/frames.js';
import { isReservedCodePoint } from '../../../src/http3/grease.js';
import { decodeVarintBig } from '../../../src/wire/varint.js';
import { connect, ofType, rawPeer } from './harness.js';

/** Everything the raw side received on `streamId`. */
function received(p: ReturnType<typeof rawPeer>, streamId: number): Uint8Array {
  const parts = p.rawEvents.flatMap((e) =>
    e.type === 'stream-data' && e.streamId === streamId ? [e.data] : [],
  );
  return Buffer.concat(parts);
}

describe('SETTINGS exchange', () => {
  it("each side learns the other's settings; a grease setting is present and ignored", () => {
    const c = connect({
      client: { qpackMaxTableCapacity: 1000, qpackBlockedStreams: 3, maxFieldSectionSize: 5000 },
      server: { enableConnectProtocol: true, h3Datagram: true },
    });
    const atServer = ofType(c.serverEvents, 'settings')[0].settings;
    expect(atServer).toMatchObject({
      qpackMaxTableCapacity: 1000,
      qpackBlockedStreams: 3,
      maxFieldSectionSize: 5000,
      enableConnectProtocol: false,
      h3Datagram: false,
    });
    const atClient = ofType(c.clientEvents, 'settings')[0].settings;
    expect(atClient).toMatchObject({
      enableConnectProtocol: true,
      h3Datagram: true,
      qpackMaxTableCapacity: 4096,
    });
    for (const s of [atServer, atClient]) {
      expect(s.unknownIds).toHaveLength(1);
      expect(isReservedCodePoint(s.unknownIds[0])).toBe(true);
    }
    expect(c.pair.client.closeInfo).toBeUndefined();
  });

  it('the control stream opens first and starts with SETTINGS, then the QPACK streams and a grease stream (§6.2)', () => {
    const p = rawPeer('server');
    const ids = p.session.localStreamIds;
    expect(ids).toEqual({ control: 3, encoder: 7, decoder: 11 });
    const control = received(p, 3);
    expect(control[0]).toBe(0x00);
    const frames = readFrames(control.subarray(1));
    expect(frames[0].kind).toBe('SETTINGS');
    // A reserved frame type follows SETTINGS (§7.2.8 grease).
    expect(frames[1].kind === 'UNKNOWN' && isReservedCodePoint(frames[1].type)).toBe(true);
    expect(received(p, 7)[0]).toBe(0x02);
    expect(received(p, 11)[0]).toBe(0x03);
    const grease = received(p, 15);
    expect(isReservedCodePoint(decodeVarintBig(grease, 0).value)).toBe(true);
    expect(p.rawEvents.some((e) => e.type === 'stream-data' && e.streamId === 15 && e.fin)).toBe(
      true,
    );
  });

  it('with grease off: no reserved setting, frame or stream', () => {
    const p = rawPeer('client', { session: { grease: false } });
    const frames = readFrames(received(p, 2).subarray(1));
    expect(frames).toHaveLength(1);
    expect(frames[0].kind === 'SETTINGS' && frames[0].settings.unknown).toBeUndefined();
    expect(p.rawEvents.some((e) => e.type === 'stream-data' && e.streamId === 14)).toBe(false);
  });

  it("a peer's grease stream is stopped with H3_STREAM_CREATION_ERROR and changes nothing", () => {
    const c = connect();
    expect(c.pair.server.stoppedRecv.has(14)).toBe(true);
    expect(c.pair.client.stoppedRecv.has(15)).toBe(true);
    expect(c.pair.client.closeInfo).toBeUndefined();
  });

  it('unknown settings are ignored; settings values arrive however the stream is split', () => {
    for (const chunking of ['byte', 'random'] as const) {
      const p = rawPeer('server', { quic: { chunking, maxChunk: 3 } });
      p.control({
        qpackMaxTableCapacity: 77,
        unknown: [
          { id: 0x1234n, value: 5n },
          { id: 0x3fff_ffff_ffff_fff0n, value: 1n },
        ],
      });
      const s = ofType(p.pump(), 'settings')[0].settings;
      expect(s.qpackMaxTableCapacity).toBe(77);
      expect(s.unknownIds).toEqual([0x1234n, 0x3fff_ffff_ffff_fff0n]);
      expect(p.closeCode()).toBeUndefined();
    }
  });

  it('QPACK streams wait for unidirectional stream credit and open on streams-available', () => {
    const c = connect({ quic: { maxUniStreams: 1 } });
    expect(c.client.localStreamIds).toEqual({ control: 2, encoder: undefined, decoder: undefined });
    c.pair.client.grantStreams(false, 3);
    c.pump();
    expect(c.client.localStreamIds).toEqual({ control: 2, encoder: 6, decoder: 10 });
    expect(c.pair.server.closeInfo).toBeUndefined();
  });
});
