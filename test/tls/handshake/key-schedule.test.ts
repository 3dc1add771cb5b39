import { createHash, X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hkdfExpandLabel } from '../../../src/crypto/index.js';
import { certificateVerifyContent, verifyWithScheme } from '../../../src/tls/certs/index.js';
import {
  binderKey,
  earlySecret,
  finishedKey,
  finishedVerifyData,
  handshakeSecret,
  KeySchedule,
  masterSecret,
  resumptionPsk,
  Transcript,
} from '../../../src/tls/handshake/index.js';
import {
  decodeCertificateBody,
  decodeCertificateVerifyBody,
  parseHandshake,
  truncatedClientHelloLength,
} from '../../../src/tls/messages/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { toHex } from '../../../src/wire/index.js';
import { resumed, simple } from './rfc8448.js';

const hex = toHex;

function transcriptOf(...msgs: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const m of msgs) h.update(m);
  return new Uint8Array(h.digest());
}

const m = simple.messages;
const helloHash = transcriptOf(m.clientHello, m.serverHello);
const certHash = transcriptOf(m.clientHello, m.serverHello, m.encryptedExtensions, m.certificate);
const cvHash = transcriptOf(
  m.clientHello,
  m.serverHello,
  m.encryptedExtensions,
  m.certificate,
  m.certificateVerify,
);
const serverFinishedHash = transcriptOf(
  m.clientHello,
  m.serverHello,
  m.encryptedExtensions,
  m.certificate,
  m.certificateVerify,
  m.serverFinished,
);
const clientFinishedHash = transcriptOf(
  m.clientHello,
  m.serverHello,
  m.encryptedExtensions,
  m.certificate,
  m.certificateVerify,
  m.serverFinished,
  m.clientFinished,
);

describe('RFC 8448 §3 simple 1-RTT handshake: key schedule', () => {
  it('the transcript of ClientHello and ServerHello hashes to the trace value', () => {
    expect(hex(helloHash)).toBe(hex(simple.helloHash));
  });

  it('derives early, handshake and master secrets stage by stage', () => {
    const early = earlySecret('sha256');
    expect(hex(early)).toBe(hex(simple.earlySecret));
    const hs = handshakeSecret('sha256', early, simple.sharedSecret);
    expect(hex(hs)).toBe(hex(simple.handshakeSecret));
    expect(hex(masterSecret('sha256', hs))).toBe(hex(simple.masterSecret));
  });

  it('KeySchedule yields every traffic secret, the exporter and the resumption master secret', () => {
    const ks = new KeySchedule('sha256');
    const hs = ks.handshake(simple.sharedSecret, helloHash);
    expect(hex(hs.client)).toBe(hex(simple.clientHandshakeTraffic));
    expect(hex(hs.server)).toBe(hex(simple.serverHandshakeTraffic));
    const app = ks.application(serverFinishedHash);
    expect(hex(app.client)).toBe(hex(simple.clientApplicationTraffic));
    expect(hex(app.server)).toBe(hex(simple.serverApplicationTraffic));
    expect(hex(app.exporter)).toBe(hex(simple.exporterMaster));
    expect(hex(ks.resumptionMasterSecret(clientFinishedHash))).toBe(hex(simple.resumptionMaster));
  });

  it('finished keys and both Finished messages match the trace', () => {
    expect(hex(finishedKey('sha256', simple.serverHandshakeTraffic))).toBe(
      hex(simple.serverFinishedKey),
    );
    expect(hex(finishedKey('sha256', simple.clientHandshakeTraffic))).toBe(
      hex(simple.clientFinishedKey),
    );
    const serverVerify = finishedVerifyData('sha256', simple.serverHandshakeTraffic, cvHash);
    expect(hex(serverVerify)).toBe(hex(m.serverFinished.subarray(4)));
    const clientVerify = finishedVerifyData(
      'sha256',
      simple.clientHandshakeTraffic,
      serverFinishedHash,
    );
    expect(hex(clientVerify)).toBe(hex(m.clientFinished.subarray(4)));
  });

  it('the handshake traffic keys and IVs of the trace follow from the secrets', () => {
    const none = new Uint8Array(0);
    expect(hex(hkdfExpandLabel('sha256', simple.serverHandshakeTraffic, 'key', none, 16))).toBe(
      '3fce516009c21727d0f2e4e86ee403bc',
    );
    expect(hex(hkdfExpandLabel('sha256', simple.serverHandshakeTraffic, 'iv', none, 12))).toBe(
      '5d313eb2671276ee13000b30',
    );
  });

  it('the resumption PSK for ticket nonce 0000 matches §3', () => {
    expect(hex(resumptionPsk('sha256', simple.resumptionMaster, simple.ticketNonce))).toBe(
      hex(simple.resumptionPsk),
    );
  });

  it("the server's RSA-PSS CertificateVerify verifies over the §4.4.3 content (and fails when altered)", () => {
    const cert = decodeCertificateBody(parseHandshake(m.certificate).body);
    const leaf = new X509Certificate(cert.certificateList[0].certData);
    const cv = decodeCertificateVerifyBody(parseHandshake(m.certificateVerify).body);
    expect(cv.algorithm).toBe(0x0804); // rsa_pss_rsae_sha256
    const content = certificateVerifyContent('server', certHash);
    expect(verifyWithScheme(cv.algorithm, leaf.publicKey, content, cv.signature)).toBe(true);
    const clientContent = certificateVerifyContent('client', certHash);
    expect(verifyWithScheme(cv.algorithm, leaf.publicKey, clientContent, cv.signature)).toBe(false);
    expect(verifyWithScheme(0x0805, leaf.publicKey, content, cv.signature)).toBe(false);
  });
});

describe('RFC 8448 §4 resumed handshake: PSK binder', () => {
  it('early secret, binder key and binder finished key from the resumption PSK', () => {
    const early = earlySecret('sha256', resumed.psk);
    expect(hex(early)).toBe(hex(resumed.earlySecret));
    const bk = binderKey('sha256', early);
    expect(hex(bk)).toBe(hex(resumed.binderKey));
    expect(hex(finishedKey('sha256', bk))).toBe(hex(resumed.binderFinishedKey));
    expect(hex(binderKey('sha256', early, true))).not.toBe(hex(resumed.binderKey));
  });

  it('the binder over Truncate(ClientHello) equals the one in the trace ClientHello', () => {
    const ch = resumed.clientHello;
    const truncated = ch.subarray(0, truncatedClientHelloLength(ch));
    const t = new Transcript();
    t.setHash('sha256');
    const th = t.digestWith(truncated);
    expect(hex(th)).toBe(hex(resumed.truncatedHelloHash));
    const ks = new KeySchedule('sha256', resumed.psk);
    const binder = finishedVerifyData('sha256', ks.binderKey(), th);
    expect(hex(binder)).toBe(hex(resumed.binder));
    expect(hex(ch.subarray(ch.length - 32))).toBe(hex(resumed.binder));
  });

  it('client_early_traffic_secret over the full ClientHello', () => {
    const ks = new KeySchedule('sha256', resumed.psk);
    const chHash = transcriptOf(resumed.clientHello);
    expect(hex(ks.clientEarlyTrafficSecret(chHash))).toBe(hex(resumed.clientEarlyTraffic));
  });
});

describe('Transcript', () => {
  it('hashes messages added before the hash was chosen, and digest() does not disturb it', () => {
    const t = new Transcript();
    t.add(m.clientHello);
    t.setHash('sha256');
    t.add(m.serverHello);
    expect(hex(t.digest())).toBe(hex(simple.helloHash));
    expect(hex(t.digest())).toBe(hex(simple.helloHash));
    expect(hex(t.digestWith(m.encryptedExtensions))).toBe(
      hex(transcriptOf(m.clientHello, m.serverHello, m.encryptedExtensions)),
    );
    expect(hex(t.digest())).toBe(hex(simple.helloHash));
  });

  it('after a HelloRetryRequest ClientHello1 is replaced by message_hash (RFC 9846 §4.4.1)', () => {
    const t = new Transcript();
    t.add(m.clientHello);
    t.setHash('sha256');
    t.replaceWithMessageHash();
    const ch1Hash = transcriptOf(m.clientHello);
    const synthetic = new Uint8Array([0xfe, 0, 0, 32, ...ch1Hash]);
    expect(hex(t.digest())).toBe(hex(transcriptOf(synthetic)));
  });

  it('incremental hashing equals one-shot hashing for random splits (SHA-384 too)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 8 }),
        fc.nat({ max: 8 }),
        fc.constantFrom('sha256' as const, 'sha384' as const),
        (msgs, known, hash) => {
          const t = new Transcript();
          msgs.forEach((msg, i) => {
            if (i === known) t.setHash(hash);
            t.add(msg);
          });
          t.setHash(hash);
          const h = createHash(hash);
          for (const msg of msgs) h.update(msg);
          expect(hex(t.digest())).toBe(h.digest('hex'));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('SHA-384 schedule', () => {
  it('produces 48-byte secrets that differ from the SHA-256 ones, deterministically', () => {
    const rng = new SeededRandom(7);
    const shared = new Uint8Array(32);
    rng.fill(shared);
    const th = new Uint8Array(48).fill(1);
    const a = new KeySchedule('sha384').handshake(shared, th);
    const b = new KeySchedule('sha384').handshake(shared, th);
    expect(a.client.length).toBe(48);
    expect(hex(a.client)).toBe(hex(b.client));
    expect(hex(a.client)).not.toBe(hex(a.server));
    expect(() => new KeySchedule('sha384').handshake(shared, new Uint8Array(32))).toThrow();
  });
});
