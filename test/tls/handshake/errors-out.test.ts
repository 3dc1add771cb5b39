/**
 * What leaves the TLS sessions when something goes wrong: always a TLS alert (or the error a
 * configured hook threw), never a plain Error, and never one that depends on what an earlier,
 * unrelated peer sent (issue 10, point 3).
 */
import { describe, expect, it } from 'vitest';
import { TlsAlertError } from '../../../src/tls/alert.js';
import { createTlsClient, createTlsServer } from '../../../src/tls/handshake/index.js';
import { asTlsError } from '../../../src/tls/handshake/session.js';
import type { Random } from '../../../src/util/random.js';
import { CodecError } from '../../../src/wire/index.js';
import { CLIENT_PARAMS, devCredential, drive, makePair, NOW, SERVER_PARAMS } from './harness.js';

/** id-ce-subjectAltName (2.5.29.17) followed by the OCTET STRING tag of its extnValue. */
const SAN_OID = Uint8Array.of(0x06, 0x03, 0x55, 0x1d, 0x11, 0x04);

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Rewrites one byte of the server certificate's subjectAltName value, `offset` bytes after the
 * OCTET STRING's length: the certificate still parses, but its GeneralNames do not, and
 * X509Certificate#checkHost leaves ASN.1 errors on OpenSSL's error queue.
 */
function corruptSan(offset: number, value: number) {
  return (from: 'client' | 'server', ev: { level: string; data: Uint8Array }) => {
    if (from !== 'server' || ev.level !== 'handshake') return ev.data;
    const at = indexOf(ev.data, SAN_OID);
    if (at < 0) throw new Error('no subjectAltName in the server flight');
    const out = new Uint8Array(ev.data);
    out[at + SAN_OID.length + 1 + offset] = value;
    return out;
  };
}

function thrownBy(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** A Random that fails like a broken crypto dependency would. */
const brokenRandom: Random = {
  fill() {
    throw new Error('entropy source failed');
  },
};

describe('errors out of the TLS sessions', () => {
  it('a handshake after refused flights with a malformed subjectAltName still completes (no stale OpenSSL error)', () => {
    // The client asks for a name the certificate does not carry, so checkHost reads the broken
    // subjectAltName, finds no match and leaves its ASN.1 errors queued; each flight is refused
    // with bad_certificate. Before the fix the next client's x25519 key (a PKCS#8 DER import)
    // failed with the error the refused certificate left behind, e.g. "error:0680009B:asn1
    // encoding routines::too long", as a plain Error out of start().
    const corruptions: [number, number][] = [
      [0, 0xff], // GeneralNames SEQUENCE tag
      [1, 0x7f], // its length
      [2, 0x00], // first dNSName tag
      [13, 0x97], // a later GeneralName tag
      [14, 0xff], // its length
    ];
    for (const [offset, value] of corruptions) {
      const bad = makePair({ seed: 3, client: { serverName: 'other.test' } });
      const err = thrownBy(() => drive(bad, NOW, { tamper: corruptSan(offset, value) }));
      expect(err).toBeInstanceOf(TlsAlertError);
      expect((err as TlsAlertError).alertName).toBe('bad_certificate');

      const good = makePair({ seed: 4 });
      expect(thrownBy(() => drive(good))).toBeUndefined();
      expect(good.client.handshakeComplete).toBe(true);
      expect(good.server.handshakeComplete).toBe(true);
    }
  });

  it('a failing dependency in TlsClient.start leaves as internal_error, and stays the failure', () => {
    const c = createTlsClient(
      { serverName: 'localhost', alpn: ['h3'], transportParameters: CLIENT_PARAMS },
      brokenRandom,
    );
    const err = thrownBy(() => c.start(NOW));
    expect(err).toBeInstanceOf(TlsAlertError);
    expect((err as TlsAlertError).alertName).toBe('internal_error');
    expect(((err as TlsAlertError).cause as Error).message).toBe('entropy source failed');
    expect(thrownBy(() => c.receive('initial', Uint8Array.of(2, 0, 0, 0), NOW))).toBe(err);
  });

  it('a failing dependency while the server handles the ClientHello leaves as internal_error', () => {
    const pair = makePair();
    pair.client.start(NOW);
    const ch = pair.client.poll();
    if (ch?.kind !== 'send') throw new Error('no ClientHello');
    const server = createTlsServer(
      {
        credentials: [devCredential().credential],
        alpn: ['h3'],
        transportParameters: () => SERVER_PARAMS,
      },
      brokenRandom,
    );
    const err = thrownBy(() => server.receive('initial', ch.data, NOW));
    expect(err).toBeInstanceOf(TlsAlertError);
    expect((err as TlsAlertError).alertName).toBe('internal_error');
  });

  it("what the server's transport-parameters hook throws leaves unchanged", () => {
    const hookError = new RangeError('TRANSPORT_PARAMETER_ERROR stand-in');
    const pair = makePair({
      server: {
        transportParameters: () => {
          throw hookError;
        },
      },
    });
    expect(thrownBy(() => drive(pair))).toBe(hookError);
  });

  it('a CodecError becomes decode_error, anything else internal_error', () => {
    expect(asTlsError(new CodecError('TRUNCATED', 'short')).alertName).toBe('decode_error');
    expect(asTlsError(new Error('x')).alertName).toBe('internal_error');
    expect(asTlsError('not even an Error').alertName).toBe('internal_error');
    const alert = new TlsAlertError('bad_certificate', 'kept');
    expect(asTlsError(alert)).toBe(alert);
  });
});
