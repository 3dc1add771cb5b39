import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cryptoErrorCode } from '../../../src/quic/errors.js';
import { TlsAlertError } from '../../../src/tls/alert.js';
import { generateDevCert } from '../../../src/tls/certs/index.js';
import { HELLO_RETRY_REQUEST_RANDOM } from '../../../src/tls/constants.js';
import {
  type GroupName,
  loadServerCredential,
  type QuicCipherSuiteName,
  type TlsEvent,
} from '../../../src/tls/handshake/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { bytesEqual, toHex } from '../../../src/wire/index.js';
import {
  CLIENT_PARAMS,
  devCredential,
  drive,
  eventsOf,
  makePair,
  NOW,
  type Pair,
  SERVER_PARAMS,
  serverSentCertificate,
} from './harness.js';

function expectAlert(fn: () => void, alert: string): TlsAlertError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TlsAlertError);
    expect((err as TlsAlertError).alertName).toBe(alert);
    return err as TlsAlertError;
  }
  throw new Error(`expected a ${alert} alert`);
}

function secret(events: readonly TlsEvent[], level: string, direction: string): string {
  const ev = eventsOf(events, 'keys').find((k) => k.level === level && k.direction === direction);
  if (!ev) throw new Error(`no ${level} ${direction} key`);
  return toHex(ev.secret);
}

function expectCompleted(pair: Pair): void {
  const [c] = eventsOf(pair.clientEvents, 'complete');
  const [s] = eventsOf(pair.serverEvents, 'complete');
  expect(c).toBeDefined();
  expect(s).toBeDefined();
  expect(pair.client.handshakeComplete).toBe(true);
  expect(pair.server.handshakeComplete).toBe(true);
  expect(c.alpn).toBe('h3');
  expect(s.alpn).toBe('h3');
  expect(toHex(c.peerTransportParams)).toBe(toHex(SERVER_PARAMS));
  expect(toHex(s.peerTransportParams)).toBe(toHex(CLIENT_PARAMS));
  // Each direction's secret is the same on both ends.
  for (const level of ['handshake', 'application']) {
    expect(secret(pair.clientEvents, level, 'write')).toBe(
      secret(pair.serverEvents, level, 'read'),
    );
    expect(secret(pair.serverEvents, level, 'write')).toBe(
      secret(pair.clientEvents, level, 'read'),
    );
  }
}

const SUITES: readonly [QuicCipherSuiteName, number, number][] = [
  ['TLS_AES_128_GCM_SHA256', 0x1301, 32],
  ['TLS_AES_256_GCM_SHA384', 0x1302, 48],
  ['TLS_CHACHA20_POLY1305_SHA256', 0x1303, 32],
];
const GROUPS: readonly GroupName[] = ['x25519', 'secp256r1'];

describe('full handshake in memory', () => {
  for (const [suite, id, hashLength] of SUITES) {
    for (const group of GROUPS) {
      it(`completes with ${suite} over ${group}`, () => {
        const pair = makePair({
          client: { cipherSuites: [suite], groups: [group] },
          server: { groups: [group] },
        });
        drive(pair);
        expectCompleted(pair);
        const [c] = eventsOf(pair.clientEvents, 'complete');
        expect(c.suite).toBe(id);
        expect(c.resumed).toBe(false);
        expect(pair.client.cipherSuite).toBe(id);
        for (const k of eventsOf(pair.clientEvents, 'keys')) {
          expect(k.suite).toBe(id);
          expect(k.secret.length).toBe(hashLength);
        }
        expect(serverSentCertificate(pair.serverEvents)).toBe(true);
        expect(pair.client.peerCertificate?.subject).toBe('CN=localhost');
      });
    }
  }

  it('the server honours its own suite preference among those the client offers', () => {
    const pair = makePair({
      client: { cipherSuites: ['TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'] },
      server: { cipherSuites: ['TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'] },
    });
    drive(pair);
    expect(eventsOf(pair.serverEvents, 'complete')[0].suite).toBe(0x1303);
  });

  it('reports keys in RFC 9001 §4.1.4 order: each write key before data at that level', () => {
    const pair = makePair();
    drive(pair);
    const order = (events: readonly TlsEvent[]): string[] =>
      events
        .filter((e) => e.kind === 'send' || e.kind === 'keys' || e.kind === 'complete')
        .map((e) =>
          e.kind === 'send'
            ? `send:${e.level}`
            : e.kind === 'keys'
              ? `${e.level}:${e.direction}`
              : 'complete',
        );
    expect(order(pair.clientEvents)).toEqual([
      'send:initial',
      'handshake:read',
      'handshake:write',
      'send:handshake',
      'application:write',
      'application:read',
      'complete',
    ]);
    // RFC 9001 §5.7: the server only reads 1-RTT once the handshake is complete.
    expect(order(pair.serverEvents)).toEqual([
      'send:initial',
      'handshake:write',
      'handshake:read',
      'send:handshake',
      'application:write',
      'application:read',
      'complete',
    ]);
  });

  it('works with CRYPTO data delivered one byte at a time', () => {
    const pair = makePair();
    drive(pair, NOW, { chunk: 1 });
    expectCompleted(pair);
  });

  it('works with CRYPTO data cut at random split points', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 700 }),
        fc.integer({ min: 1, max: 1000 }),
        (chunk, seed) => {
          const pair = makePair({ seed });
          drive(pair, NOW, { chunk });
          expectCompleted(pair);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('is reproducible: the same seeds give the same bytes and secrets (Ed25519 signs deterministically)', () => {
    const cert = generateDevCert({ now: NOW, keyType: 'ed25519', random: new SeededRandom(3) });
    const credential = loadServerCredential(cert.certPem, cert.keyPem);
    const make = () =>
      makePair({
        seed: 9,
        client: { verify: { ca: [cert.certPem], noSystemRoots: true } },
        server: { credentials: [credential] },
      });
    const a = make();
    const b = make();
    drive(a);
    drive(b);
    const sends = (events: readonly TlsEvent[]) =>
      eventsOf(events, 'send').map((e) => toHex(e.data));
    expect(sends(a.clientEvents)).toEqual(sends(b.clientEvents));
    expect(sends(a.serverEvents)).toEqual(sends(b.serverEvents));
    expect(secret(a.clientEvents, 'application', 'write')).toBe(
      secret(b.clientEvents, 'application', 'write'),
    );
    const c = makePair({
      seed: 10,
      client: { verify: { ca: [cert.certPem], noSystemRoots: true } },
      server: { credentials: [credential] },
    });
    drive(c);
    expect(secret(c.clientEvents, 'handshake', 'write')).not.toBe(
      secret(a.clientEvents, 'handshake', 'write'),
    );
  });

  it('a proper prefix of the server flight leaves the client waiting (no keys, no error)', () => {
    const pair = makePair();
    pair.client.start(NOW);
    const ch = pair.client.poll();
    if (ch?.kind !== 'send') throw new Error('no ClientHello');
    pair.server.receive('initial', ch.data, NOW);
    const sends: { level: 'initial' | 'handshake' | 'application'; data: Uint8Array }[] = [];
    for (let ev = pair.server.poll(); ev; ev = pair.server.poll())
      if (ev.kind === 'send') sends.push(ev);
    const [sh, flight] = sends;
    for (let cut = 1; cut < sh.data.length; cut += 7) {
      const probe = makePair();
      probe.client.start(NOW);
      probe.client.poll();
      // a different client cannot use this ServerHello fully, but a prefix is just buffered
      probe.client.receive('initial', sh.data.subarray(0, cut), NOW);
      expect(probe.client.poll()).toBeUndefined();
    }
    pair.client.receive('initial', sh.data, NOW);
    pair.client.receive('handshake', flight.data.subarray(0, flight.data.length - 1), NOW);
    expect(pair.client.handshakeComplete).toBe(false);
    pair.client.receive('handshake', flight.data.subarray(flight.data.length - 1), NOW);
    expect(pair.client.handshakeComplete).toBe(true);
  });
});

describe('server key types (CertificateVerify schemes)', () => {
  for (const keyType of ['ecdsa-p256', 'rsa-2048', 'ed25519'] as const) {
    it(`a ${keyType} certificate authenticates the server`, () => {
      const cert = generateDevCert({ now: NOW, keyType, random: new SeededRandom(5) });
      const pair = makePair({
        client: { verify: { ca: [cert.certPem], noSystemRoots: true } },
        server: { credentials: [loadServerCredential(cert.certPem, cert.keyPem)] },
      });
      drive(pair);
      expectCompleted(pair);
      // The CertificateVerify scheme is in the server's flight: find it after type 0x0f.
      const flight = eventsOf(pair.serverEvents, 'send').find((e) => e.level === 'handshake')!.data;
      let at = 0;
      while (flight[at] !== 0x0f)
        at += 4 + ((flight[at + 1] << 16) | (flight[at + 2] << 8) | flight[at + 3]);
      const scheme = (flight[at + 4] << 8) | flight[at + 5];
      expect(scheme).toBe({ 'ecdsa-p256': 0x0403, 'rsa-2048': 0x0804, ed25519: 0x0807 }[keyType]);
    });
  }
});

describe('HelloRetryRequest', () => {
  it('a client sharing only secp256r1 is asked for x25519 by a server preferring it', () => {
    const pair = makePair({
      client: { groups: ['x25519', 'secp256r1'], keyShareGroups: ['secp256r1'] },
      server: { groups: ['x25519', 'secp256r1'] },
    });
    drive(pair);
    expectCompleted(pair);
    const initial = eventsOf(pair.serverEvents, 'send').filter((e) => e.level === 'initial');
    expect(initial).toHaveLength(2); // HRR, then ServerHello
    expect(bytesEqual(initial[0].data.subarray(6, 38), HELLO_RETRY_REQUEST_RANDOM)).toBe(true);
    expect(bytesEqual(initial[1].data.subarray(6, 38), HELLO_RETRY_REQUEST_RANDOM)).toBe(false);
    const clientInitial = eventsOf(pair.clientEvents, 'send').filter((e) => e.level === 'initial');
    expect(clientInitial).toHaveLength(2); // ClientHello1, ClientHello2
  });

  it('with a cookie: the client echoes it and the server checks it', () => {
    const pair = makePair({
      client: { keyShareGroups: ['secp256r1'] },
      server: { hrrCookie: true },
    });
    drive(pair);
    expectCompleted(pair);
  });

  it('a second ClientHello without the requested share is illegal_parameter', () => {
    const pair = makePair({
      client: { keyShareGroups: ['secp256r1'] },
      server: { hrrCookie: true },
    });
    const err = expectAlert(
      () =>
        drive(pair, NOW, {
          tamper: (from, ev) => {
            // Replay ClientHello1 as ClientHello2: it still lacks the x25519 share.
            const first = eventsOf(pair.clientEvents, 'send')[0].data;
            return from === 'client' && ev.level === 'initial' && ev.data !== first
              ? first
              : ev.data;
          },
        }),
      'illegal_parameter',
    );
    expect(err.message).toMatch(/requested share/);
  });

  it('no group in common is handshake_failure', () => {
    const pair = makePair({ client: { groups: ['secp256r1'] }, server: { groups: ['x25519'] } });
    expectAlert(() => drive(pair), 'handshake_failure');
  });
});

describe('negotiation failures', () => {
  it('ALPN without overlap is no_application_protocol (120, CRYPTO_ERROR 0x178)', () => {
    const pair = makePair({ client: { alpn: ['h3-29'] }, server: { alpn: ['h3'] } });
    const err = expectAlert(() => drive(pair), 'no_application_protocol');
    expect(err.alert).toBe(120);
    expect(cryptoErrorCode(err.alert)).toBe(0x178);
  });

  it('ALPN follows the server preference', () => {
    const pair = makePair({
      client: { alpn: ['h3', 'masque'] },
      server: { alpn: ['masque', 'h3'] },
    });
    drive(pair);
    expect(eventsOf(pair.clientEvents, 'complete')[0].alpn).toBe('masque');
  });

  it('no common cipher suite is handshake_failure', () => {
    const pair = makePair({
      client: { cipherSuites: ['TLS_AES_128_GCM_SHA256'] },
      server: { cipherSuites: ['TLS_AES_256_GCM_SHA384'] },
    });
    expectAlert(() => drive(pair), 'handshake_failure');
  });

  it('an error from the transport-parameter hook aborts the handshake and sticks', () => {
    const boom = new Error('bad transport parameter');
    const pair = makePair({
      server: {
        transportParameters: () => {
          throw boom;
        },
      },
    });
    expect(() => drive(pair)).toThrow(boom);
    expect(() => pair.server.receive('initial', Uint8Array.of(1), NOW)).toThrow(boom);
    expect(pair.server.poll()).toBeUndefined();
  });

  it('the server hook receives the client transport parameters byte for byte', () => {
    const pair = makePair();
    drive(pair);
    expect(pair.seenByServer.map(toHex)).toEqual([toHex(CLIENT_PARAMS)]);
  });
});

describe('authentication failures', () => {
  it('a certificate for another host is bad_certificate', () => {
    const pair = makePair({ client: { serverName: 'proxy.example.net' } });
    expectAlert(() => drive(pair), 'bad_certificate');
  });

  it('a certificate past its validity is certificate_expired', () => {
    const pair = makePair();
    expectAlert(() => drive(pair, NOW + 30 * 86_400_000), 'certificate_expired');
  });

  it('a certificate from an unknown CA is unknown_ca', () => {
    const pair = makePair({ client: { verify: {} } });
    expectAlert(() => drive(pair), 'unknown_ca');
  });

  it('a matching SPKI pin is accepted without a CA', () => {
    const { cert } = devCredential();
    const pair = makePair({ client: { verify: { pinnedSha256: [cert.spkiSha256] } } });
    drive(pair);
    expectCompleted(pair);
  });

  it('a pin that does not match is bad_certificate', () => {
    const other = generateDevCert({ now: NOW, random: new SeededRandom(77) });
    const pair = makePair({ client: { verify: { pinnedSha256: [other.spkiSha256] } } });
    expectAlert(() => drive(pair), 'bad_certificate');
  });

  it('insecureSkipVerify: true accepts an untrusted certificate for another name', () => {
    const pair = makePair({
      client: { serverName: 'elsewhere.example', verify: { insecureSkipVerify: true } },
    });
    drive(pair);
    expectCompleted(pair);
  });

  it('a tampered server Finished is decrypt_error', () => {
    const pair = makePair();
    expectAlert(
      () =>
        drive(pair, NOW, {
          tamper: (from, ev) => {
            if (from !== 'server' || ev.level !== 'handshake') return ev.data;
            const copy = ev.data.slice();
            copy[copy.length - 1] ^= 1; // last byte of verify_data
            return copy;
          },
        }),
      'decrypt_error',
    );
  });

  it('a tampered client Finished is decrypt_error at the server', () => {
    const pair = makePair();
    expectAlert(
      () =>
        drive(pair, NOW, {
          tamper: (from, ev) => {
            if (from !== 'client' || ev.level !== 'handshake') return ev.data;
            const copy = ev.data.slice();
            copy[10] ^= 0x80;
            return copy;
          },
        }),
      'decrypt_error',
    );
    expect(pair.server.handshakeComplete).toBe(false);
    expect(
      eventsOf(pair.serverEvents, 'keys').some(
        (k) => k.level === 'application' && k.direction === 'read',
      ),
    ).toBe(false);
  });

  it('a tampered CertificateVerify signature is decrypt_error', () => {
    const pair = makePair();
    expectAlert(
      () =>
        drive(pair, NOW, {
          tamper: (from, ev) => {
            if (from !== 'server' || ev.level !== 'handshake') return ev.data;
            const copy = ev.data.slice();
            let at = 0;
            while (copy[at] !== 0x0f)
              at += 4 + ((copy[at + 1] << 16) | (copy[at + 2] << 8) | copy[at + 3]);
            copy[at + 12] ^= 1; // inside the DER signature
            return copy;
          },
        }),
      'decrypt_error',
    );
  });
});

describe('key log', () => {
  it('emits the four NSS lines on each side with the ClientHello random', () => {
    for (const [suite, hexLen] of [
      ['TLS_AES_128_GCM_SHA256', 64],
      ['TLS_AES_256_GCM_SHA384', 96],
    ] as const) {
      const pair = makePair({ client: { cipherSuites: [suite] } });
      drive(pair);
      const ch = eventsOf(pair.clientEvents, 'send')[0].data;
      const random = toHex(ch.subarray(6, 38));
      for (const events of [pair.clientEvents, pair.serverEvents]) {
        const lines = eventsOf(events, 'keylog').map((e) => e.line);
        expect(lines.map((l) => l.split(' ')[0]).sort()).toEqual([
          'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
          'CLIENT_TRAFFIC_SECRET_0',
          'SERVER_HANDSHAKE_TRAFFIC_SECRET',
          'SERVER_TRAFFIC_SECRET_0',
        ]);
        const re = new RegExp(`^[A-Z_0-9]+ ${random} [0-9a-f]{${hexLen}}$`);
        for (const line of lines) expect(line).toMatch(re);
      }
      // The logged secret is the one handed to QUIC.
      const line = eventsOf(pair.clientEvents, 'keylog').find((e) =>
        e.line.startsWith('CLIENT_TRAFFIC_SECRET_0'),
      )!;
      expect(line.line.split(' ')[2]).toBe(secret(pair.clientEvents, 'application', 'write'));
    }
  });
});

describe('certificate chains and selection', () => {
  const root = generateDevCert({
    now: NOW,
    ca: true,
    commonName: 'Root',
    random: new SeededRandom(11),
  });
  const inter = generateDevCert({
    now: NOW,
    ca: true,
    commonName: 'Inter',
    issuer: root,
    random: new SeededRandom(12),
  });

  it('a leaf + intermediate chain anchored at the client CA completes', () => {
    const leaf = generateDevCert({
      now: NOW,
      issuer: inter,
      names: ['proxy.test'],
      random: new SeededRandom(13),
    });
    const credential = loadServerCredential(leaf.certPem + inter.certPem, leaf.keyPem);
    expect(credential.chain).toHaveLength(2);
    const pair = makePair({
      client: { serverName: 'proxy.test', verify: { ca: [root.certPem], noSystemRoots: true } },
      server: { credentials: [credential] },
    });
    drive(pair);
    expectCompleted(pair);
    expect(eventsOf(pair.serverEvents, 'complete')[0].serverName).toBe('proxy.test');
  });

  it('the server picks the certificate naming the SNI, else its first one', () => {
    const a = generateDevCert({
      now: NOW,
      noDefaultNames: true,
      names: ['a.test'],
      random: new SeededRandom(21),
    });
    const b = generateDevCert({
      now: NOW,
      noDefaultNames: true,
      names: ['b.test'],
      random: new SeededRandom(22),
    });
    const credentials = [
      loadServerCredential(a.certPem, a.keyPem),
      loadServerCredential(b.certPem, b.keyPem),
    ];
    for (const [name, expected] of [
      ['b.test', b.spkiSha256],
      ['a.test', a.spkiSha256],
      ['c.test', a.spkiSha256],
    ] as const) {
      const pair = makePair({
        client: { serverName: name, verify: { pinnedSha256: [expected] } },
        server: { credentials },
      });
      drive(pair);
      expectCompleted(pair);
    }
  });

  it('a key that does not match the certificate is refused at configuration time', () => {
    const a = generateDevCert({ now: NOW, random: new SeededRandom(31) });
    const b = generateDevCert({ now: NOW, random: new SeededRandom(32) });
    expect(() => loadServerCredential(a.certPem, b.keyPem)).toThrow(RangeError);
    expect(() => loadServerCredential('', a.keyPem)).toThrow(RangeError);
  });
});
