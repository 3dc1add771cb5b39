/**
 * Interop with a TLS 1.3 stack someone else wrote: node's OpenSSL, as a TLS-over-TCP server on an
 * in-memory stream (no sockets). Our client's ClientHello goes out in TLS records; the server's
 * answer is decrypted with the handshake keys our client derived. OpenSSL does not send
 * quic_transport_parameters over TCP, so our client (rightly) stops at EncryptedExtensions with
 * missing_extension; the test then checks OpenSSL's CertificateVerify and Finished with our code,
 * sends our client Finished (OpenSSL must accept it) and compares OpenSSL's key log with ours.
 */
import { Duplex } from 'node:stream';
import { createSecureContext, TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createAead, hkdfExpandLabel, suiteParams } from '../../../src/crypto/index.js';
import { TlsAlertError } from '../../../src/tls/alert.js';
import { certificateVerifyContent, verifyWithScheme } from '../../../src/tls/certs/index.js';
import { HandshakeType } from '../../../src/tls/constants.js';
import {
  createTlsClient,
  finishedVerifyData,
  type KeysEvent,
  type QuicCipherSuiteName,
  Transcript,
} from '../../../src/tls/handshake/index.js';
import {
  type CertificateVerify,
  decodeRawHandshake,
  encodeHandshake,
  HandshakeReader,
} from '../../../src/tls/messages/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { bytesEqual, concatBytes } from '../../../src/wire/index.js';
import { devCredential, NOW } from './harness.js';

/** TLS 1.3 record protection (RFC 9846 §5.2, §5.3) for one direction. */
class RecordKeys {
  readonly #aead;
  readonly #iv: Uint8Array;
  #seq = 0;
  constructor(ev: Pick<KeysEvent, 'suite' | 'secret'>) {
    const p = suiteParams(ev.suite);
    const none = new Uint8Array(0);
    this.#aead = createAead(ev.suite, hkdfExpandLabel(p.hash, ev.secret, 'key', none, p.keyLength));
    this.#iv = hkdfExpandLabel(p.hash, ev.secret, 'iv', none, 12);
  }
  #nonce(): Uint8Array {
    const n = this.#iv.slice();
    const s = this.#seq++;
    for (let k = 0; k < 6; k++) n[11 - k] ^= Math.floor(s / 2 ** (8 * k)) & 0xff;
    return n;
  }
  open(header: Uint8Array, body: Uint8Array): { type: number; data: Uint8Array } {
    const pt = this.#aead.open(this.#nonce(), header, body);
    let end = pt.length;
    while (end > 0 && pt[end - 1] === 0) end--;
    return { type: pt[end - 1], data: pt.subarray(0, end - 1) };
  }
  seal(type: number, data: Uint8Array): Uint8Array {
    const inner = concatBytes(data, Uint8Array.of(type));
    const header = Uint8Array.of(23, 3, 3, (inner.length + 16) >> 8, (inner.length + 16) & 0xff);
    return concatBytes(header, this.#aead.seal(this.#nonce(), header, inner));
  }
}

function record(type: number, data: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(type, 3, 1, data.length >> 8, data.length & 0xff), data);
}

const tick = () => new Promise<void>((r) => setImmediate(r));

async function againstOpenSsl(
  curve: string,
  suite: QuicCipherSuiteName,
  shareGroup: 'x25519' | 'secp256r1',
) {
  const { cert } = devCredential();
  const written: Uint8Array[] = [];
  const wire = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      written.push(new Uint8Array(chunk));
      cb();
    },
  });
  const server = new TLSSocket(wire, {
    isServer: true,
    secureContext: createSecureContext({
      cert: cert.certPem,
      key: cert.keyPem,
      ecdhCurve: curve,
      ciphers: suite, // node accepts TLS 1.3 suite names here
      minVersion: 'TLSv1.3',
    }),
    ALPNProtocols: ['h3'],
  });
  let secure = false;
  const opensslKeylog: string[] = [];
  server.on('keylog', (line: Buffer) => opensslKeylog.push(line.toString('latin1').trim()));
  let serverError: unknown;
  server.on('secure', () => {
    secure = true;
  });
  server.on('error', (err) => {
    serverError = err;
  });

  const client = createTlsClient(
    {
      serverName: 'localhost',
      alpn: ['h3'],
      transportParameters: Uint8Array.of(1, 2, 3, 4),
      cipherSuites: [suite],
      keyShareGroups: [shareGroup],
      verify: { ca: [cert.certPem], noSystemRoots: true },
    },
    new SeededRandom(5),
  );
  const keys: KeysEvent[] = [];
  const keylog: string[] = [];
  const clientHellos: Uint8Array[] = [];
  const drain = () => {
    for (let ev = client.poll(); ev; ev = client.poll()) {
      if (ev.kind === 'keys') keys.push(ev);
      if (ev.kind === 'keylog') keylog.push(ev.line);
      if (ev.kind === 'send' && ev.level === 'initial') {
        clientHellos.push(ev.data);
        wire.push(record(22, ev.data));
      }
    }
  };
  client.start(NOW);
  drain();

  const plaintext: Uint8Array[] = []; // HRR / ServerHello
  const flight = new HandshakeReader();
  const messages: { type: number; raw: Uint8Array }[] = [];
  let hsRead: RecordKeys | undefined;
  let clientError: unknown;
  let pending: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < 500 && messages.every((m) => m.type !== HandshakeType.finished); i++) {
    await tick();
    pending = concatBytes(pending, ...written.splice(0));
    while (pending.length >= 5) {
      const len = (pending[3] << 8) | pending[4];
      if (pending.length < 5 + len) break;
      const header = pending.subarray(0, 5);
      const body = pending.subarray(5, 5 + len);
      pending = pending.subarray(5 + len);
      if (header[0] === 22) {
        plaintext.push(body);
        client.receive('initial', body, NOW);
        drain();
        const read = keys.find((k) => k.level === 'handshake' && k.direction === 'read');
        if (read) hsRead = new RecordKeys(read);
      } else if (header[0] === 23 && hsRead) {
        const inner = hsRead.open(header, body);
        expect(inner.type).toBe(22);
        for (const m of flight.feed(inner.data)) messages.push(m);
        if (clientError === undefined && messages.length > 0) {
          try {
            client.receive('handshake', messages[0].raw, NOW);
          } catch (err) {
            clientError = err;
          }
        }
      }
    }
  }
  expect(serverError).toBeUndefined();
  return {
    server,
    keys,
    keylog,
    opensslKeylog,
    clientHellos,
    plaintext,
    messages,
    clientError,
    wire,
    isSecure: () => secure,
  };
}

describe('interop with OpenSSL (node:tls) as server', () => {
  for (const [curve, suite, share, hrr] of [
    ['X25519', 'TLS_AES_128_GCM_SHA256', 'x25519', false],
    ['P-256', 'TLS_AES_256_GCM_SHA384', 'x25519', true],
    ['P-256', 'TLS_CHACHA20_POLY1305_SHA256', 'secp256r1', false],
  ] as const) {
    it(`${suite} over ${curve}${hrr ? ' after a HelloRetryRequest' : ''}: keys, CertificateVerify and both Finished agree`, async () => {
      const r = await againstOpenSsl(curve, suite, share);
      expect(r.clientHellos).toHaveLength(hrr ? 2 : 1);
      // OpenSSL's encrypted flight decrypted with our handshake keys; the client stops at EE.
      expect(r.clientError).toBeInstanceOf(TlsAlertError);
      expect((r.clientError as TlsAlertError).alertName).toBe('missing_extension');
      expect(r.messages.map((m) => m.type)).toEqual([8, 11, 15, 20]);

      const p = suiteParams(r.keys[0].suite);
      expect(p.name).toBe(suite);
      const t = new Transcript();
      t.add(r.clientHellos[0]);
      t.setHash(p.hash);
      if (hrr) {
        t.replaceWithMessageHash();
        t.add(r.plaintext[0]);
        t.add(r.clientHellos[1]);
      }
      t.add(r.plaintext[hrr ? 1 : 0]);
      const [ee, certificate, cv, fin] = r.messages;
      t.add(ee.raw);
      t.add(certificate.raw);
      const leaf = decodeRawHandshake({
        type: 11,
        body: certificate.raw.subarray(4),
        raw: certificate.raw,
      });
      if (leaf.kind !== 'certificate') throw new Error('not a Certificate');
      expect(bytesEqual(leaf.certificateList[0].certData, devCredential().cert.certDer)).toBe(true);
      const cvMsg = decodeRawHandshake({
        type: 15,
        body: cv.raw.subarray(4),
        raw: cv.raw,
      }) as CertificateVerify;
      const content = certificateVerifyContent('server', t.digest());
      expect(
        verifyWithScheme(
          cvMsg.algorithm,
          devCredential().credential.leaf.publicKey,
          content,
          cvMsg.signature,
        ),
      ).toBe(true);
      t.add(cv.raw);
      const serverHs = r.keys.find((k) => k.level === 'handshake' && k.direction === 'read')!;
      const clientHs = r.keys.find((k) => k.level === 'handshake' && k.direction === 'write')!;
      expect(
        bytesEqual(fin.raw.subarray(4), finishedVerifyData(p.hash, serverHs.secret, t.digest())),
      ).toBe(true);
      t.add(fin.raw);

      // Our Finished, under our client handshake key: OpenSSL must accept it.
      const ours = encodeHandshake({
        kind: 'finished',
        verifyData: finishedVerifyData(p.hash, clientHs.secret, t.digest()),
      });
      r.wire.push(new RecordKeys(clientHs).seal(22, ours));
      for (let i = 0; i < 500 && !r.isSecure(); i++) await tick();
      expect(r.isSecure()).toBe(true);
      expect(r.server.alpnProtocol).toBe('h3');

      // Key log interop: OpenSSL's SSLKEYLOGFILE lines for the handshake secrets equal ours.
      for (const label of ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET']) {
        const theirs = r.opensslKeylog.find((l) => l.startsWith(label));
        expect(theirs).toBeDefined();
        expect(r.keylog).toContain(theirs);
      }
      r.server.destroy();
    });
  }
});
