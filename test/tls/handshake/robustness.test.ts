import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TlsAlertError } from '../../../src/tls/alert.js';
import type { Extension } from '../../../src/tls/extensions/types.js';
import type { TlsClient, TlsServer } from '../../../src/tls/handshake/index.js';
import {
  type ClientHello,
  decodeClientHelloBody,
  encodeHandshake,
  parseHandshake,
} from '../../../src/tls/messages/index.js';
import { QuicProtocolViolation } from '../../../src/tls/quic.js';
import { drive, eventsOf, makePair, NOW } from './harness.js';

function alertOf(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof TlsAlertError) return err.alertName;
    throw err;
  }
  return 'none';
}

/** A client that has sent its ClientHello and waits for the server's answer. */
function startedClient(): TlsClient {
  const { client } = makePair();
  client.start(NOW);
  while (client.poll()) {}
  return client;
}

/** The client's ClientHello, decoded, to re-encode with changes. */
function clientHello(): ClientHello {
  const { client } = makePair();
  client.start(NOW);
  const ev = client.poll();
  if (ev?.kind !== 'send') throw new Error('no ClientHello');
  return decodeClientHelloBody(parseHandshake(ev.data).body);
}

function withExtensions(ch: ClientHello, f: (exts: Extension[]) => Extension[]): Uint8Array {
  return encodeHandshake({ ...ch, extensions: f([...ch.extensions]) });
}

function freshServer(): TlsServer {
  return makePair().server;
}

const x25519Share = (): Extension => ({
  kind: 'key_share',
  serverShare: { group: 0x1d, keyExchange: new Uint8Array(32).fill(9) },
});
const tls13: Extension = { kind: 'supported_versions', selectedVersion: 0x0304 };

function serverHello(exts: Extension[], cipherSuite = 0x1301): Uint8Array {
  return encodeHandshake({
    kind: 'server_hello',
    random: new Uint8Array(32).fill(1),
    legacySessionIdEcho: new Uint8Array(0),
    cipherSuite,
    extensions: exts,
  });
}

function hrr(exts: Extension[]): Uint8Array {
  return encodeHandshake({
    kind: 'hello_retry_request',
    legacySessionIdEcho: new Uint8Array(0),
    cipherSuite: 0x1301,
    extensions: exts,
  });
}

describe('client checks on the server hello (RFC 9846 §4.1.3, §4.1.4, §4.2)', () => {
  it('a suite the client did not offer is illegal_parameter', () => {
    const c = makePair({ client: { cipherSuites: ['TLS_AES_128_GCM_SHA256'] } }).client;
    c.start(NOW);
    expect(
      alertOf(() => c.receive('initial', serverHello([tls13, x25519Share()], 0x1303), NOW)),
    ).toBe('illegal_parameter');
  });

  it('an extension the client did not request is unsupported_extension', () => {
    const c = startedClient();
    const sh = serverHello([
      tls13,
      x25519Share(),
      { kind: 'unknown', type: 0x7a7a, data: new Uint8Array(0) },
    ]);
    expect(alertOf(() => c.receive('initial', sh, NOW))).toBe('unsupported_extension');
  });

  it('a ServerHello without supported_versions (TLS 1.2) is protocol_version', () => {
    const c = startedClient();
    expect(alertOf(() => c.receive('initial', serverHello([x25519Share()]), NOW))).toBe(
      'protocol_version',
    );
  });

  it('a ServerHello selecting TLS 1.2 in supported_versions is illegal_parameter', () => {
    const c = startedClient();
    const sh = serverHello([
      { kind: 'supported_versions', selectedVersion: 0x0303 },
      x25519Share(),
    ]);
    expect(alertOf(() => c.receive('initial', sh, NOW))).toBe('illegal_parameter');
  });

  it('a share for a group the client did not share is illegal_parameter', () => {
    const c = startedClient();
    const sh = serverHello([
      tls13,
      { kind: 'key_share', serverShare: { group: 0x17, keyExchange: new Uint8Array(65).fill(4) } },
    ]);
    expect(alertOf(() => c.receive('initial', sh, NOW))).toBe('illegal_parameter');
  });

  it('an all-zero x25519 share is illegal_parameter (RFC 9846 §7.4.2)', () => {
    const c = startedClient();
    const sh = serverHello([
      tls13,
      { kind: 'key_share', serverShare: { group: 0x1d, keyExchange: new Uint8Array(32) } },
    ]);
    expect(alertOf(() => c.receive('initial', sh, NOW))).toBe('illegal_parameter');
  });

  it('a ServerHello without key_share is missing_extension', () => {
    const c = startedClient();
    expect(alertOf(() => c.receive('initial', serverHello([tls13]), NOW))).toBe(
      'missing_extension',
    );
  });

  it('a HelloRetryRequest for a group already shared is illegal_parameter', () => {
    const c = startedClient();
    expect(
      alertOf(() =>
        c.receive('initial', hrr([tls13, { kind: 'key_share', selectedGroup: 0x1d }]), NOW),
      ),
    ).toBe('illegal_parameter');
  });

  it('a HelloRetryRequest that would change nothing is illegal_parameter', () => {
    const c = startedClient();
    expect(alertOf(() => c.receive('initial', hrr([tls13]), NOW))).toBe('illegal_parameter');
  });

  it('a HelloRetryRequest with an unrequested extension other than cookie is unsupported_extension', () => {
    const c = startedClient();
    const unknown: Extension = { kind: 'unknown', type: 0x5a5a, data: new Uint8Array(2) };
    expect(alertOf(() => c.receive('initial', hrr([tls13, unknown]), NOW))).toBe(
      'unsupported_extension',
    );
  });

  it('a second HelloRetryRequest is unexpected_message', () => {
    const c = startedClient();
    c.receive('initial', hrr([tls13, { kind: 'key_share', selectedGroup: 0x17 }]), NOW);
    expect(
      alertOf(() =>
        c.receive('initial', hrr([tls13, { kind: 'cookie', cookie: Uint8Array.of(1) }]), NOW),
      ),
    ).toBe('unexpected_message');
  });
});

describe('server checks on the ClientHello (RFC 9001 §8, RFC 9846 §4.1.2, §4.2)', () => {
  const ch = clientHello();

  it('without quic_transport_parameters is missing_extension', () => {
    const bytes = withExtensions(ch, (e) =>
      e.filter((x) => x.kind !== 'quic_transport_parameters'),
    );
    expect(alertOf(() => freshServer().receive('initial', bytes, NOW))).toBe('missing_extension');
  });

  it('without signature_algorithms (certificate authentication) is missing_extension', () => {
    const bytes = withExtensions(ch, (e) => e.filter((x) => x.kind !== 'signature_algorithms'));
    expect(alertOf(() => freshServer().receive('initial', bytes, NOW))).toBe('missing_extension');
  });

  it('without key_share is missing_extension', () => {
    const bytes = withExtensions(ch, (e) => e.filter((x) => x.kind !== 'key_share'));
    expect(alertOf(() => freshServer().receive('initial', bytes, NOW))).toBe('missing_extension');
  });

  it('pre_shared_key without psk_key_exchange_modes is missing_extension (§4.2.9)', () => {
    const bytes = withExtensions(ch, (e) => [
      ...e.filter((x) => x.kind !== 'psk_key_exchange_modes'),
      {
        kind: 'pre_shared_key',
        identities: [{ identity: Uint8Array.of(1, 2, 3), obfuscatedTicketAge: 0 }],
        binders: [new Uint8Array(32)],
      },
    ]);
    const server = makePair({ server: { tickets: { key: new Uint8Array(32) } } }).server;
    expect(alertOf(() => server.receive('initial', bytes, NOW))).toBe('missing_extension');
  });

  it('a key share for a group not in supported_groups is illegal_parameter', () => {
    const bytes = withExtensions(ch, (e) =>
      e.map((x) =>
        x.kind === 'supported_groups' ? { kind: 'supported_groups', groups: [0x17] } : x,
      ),
    );
    expect(alertOf(() => freshServer().receive('initial', bytes, NOW))).toBe('illegal_parameter');
  });

  it('a malformed x25519 share is illegal_parameter', () => {
    const bytes = withExtensions(ch, (e) =>
      e.map((x) =>
        x.kind === 'key_share'
          ? { kind: 'key_share', clientShares: [{ group: 0x1d, keyExchange: Uint8Array.of(1) }] }
          : x,
      ),
    );
    expect(alertOf(() => freshServer().receive('initial', bytes, NOW))).toBe('illegal_parameter');
  });

  it('a non-empty legacy_session_id is PROTOCOL_VIOLATION (RFC 9001 §8.4)', () => {
    const bytes = encodeHandshake({ ...ch, legacySessionId: new Uint8Array(32).fill(1) });
    try {
      freshServer().receive('initial', bytes, NOW);
      throw new Error('accepted');
    } catch (err) {
      // RFC 9001 makes it a PROTOCOL_VIOLATION; QUIC's tlsCall maps the type to that code.
      expect(err).toBeInstanceOf(QuicProtocolViolation);
    }
  });

  it('bytes after the ClientHello in the same level are unexpected_message', () => {
    const bytes = withExtensions(ch, (e) => e);
    const extra = new Uint8Array(bytes.length + 2);
    extra.set(bytes);
    extra.set([0x14, 0x00], bytes.length);
    const server = freshServer();
    expect(alertOf(() => server.receive('initial', extra, NOW))).toBe('unexpected_message');
  });
});

describe('levels and post-handshake messages', () => {
  it('handshake bytes at the wrong encryption level are unexpected_message', () => {
    const pair = makePair();
    pair.client.start(NOW);
    const ch = pair.client.poll();
    if (ch?.kind !== 'send') throw new Error('no ClientHello');
    expect(alertOf(() => pair.server.receive('handshake', ch.data, NOW))).toBe(
      'unexpected_message',
    );
    // the session is dead from then on
    expect(alertOf(() => pair.server.receive('initial', ch.data, NOW))).toBe('unexpected_message');
  });

  it('KeyUpdate is unexpected_message (RFC 9001 §6)', () => {
    const pair = makePair();
    drive(pair);
    const ku = encodeHandshake({ kind: 'key_update', requestUpdate: 0 });
    expect(alertOf(() => pair.client.receive('application', ku, NOW))).toBe('unexpected_message');
  });

  it('anything from the client after the handshake is unexpected_message at the server', () => {
    const pair = makePair();
    drive(pair);
    const fin = encodeHandshake({ kind: 'finished', verifyData: new Uint8Array(32) });
    expect(alertOf(() => pair.server.receive('application', fin, NOW))).toBe('unexpected_message');
  });

  it('a post-handshake CertificateRequest is PROTOCOL_VIOLATION (RFC 9001 §4.4)', () => {
    const pair = makePair();
    drive(pair);
    const cr = encodeHandshake({
      kind: 'certificate_request',
      certificateRequestContext: Uint8Array.of(1),
      extensions: [{ kind: 'signature_algorithms', schemes: [0x0403] }],
    });
    expect(() => pair.client.receive('application', cr, NOW)).toThrow(QuicProtocolViolation);
  });

  it('NewSessionTicket early_data must carry 0xffffffff (RFC 9001 §4.6.1)', () => {
    const nst = (size: number) =>
      encodeHandshake({
        kind: 'new_session_ticket',
        ticketLifetime: 60,
        ticketAgeAdd: 1,
        ticketNonce: Uint8Array.of(0),
        ticket: Uint8Array.of(1, 2, 3),
        extensions: [{ kind: 'early_data', maxEarlyDataSize: size }],
      });
    const ok = makePair();
    drive(ok);
    ok.client.receive('application', nst(0xffff_ffff), NOW);
    const [t] = eventsOf([...iter(ok.client)], 'ticket');
    expect(t.ticket.maxEarlyDataSize).toBe(0xffff_ffff);
    const bad = makePair();
    drive(bad);
    try {
      bad.client.receive('application', nst(16384), NOW);
      throw new Error('accepted');
    } catch (err) {
      // RFC 9001 makes it a PROTOCOL_VIOLATION; QUIC's tlsCall maps the type to that code.
      expect(err).toBeInstanceOf(QuicProtocolViolation);
    }
  });

  it('a CertificateRequest in the handshake is accepted into the transcript (then Finished no longer matches)', () => {
    // Our server never requests client certificates, so one is spliced into its flight: the
    // client accepts it (state wait_cert) and hashes it, so the server's Finished fails.
    const pair = makePair();
    pair.client.start(NOW);
    const ch = pair.client.poll();
    if (ch?.kind !== 'send') throw new Error('no ClientHello');
    pair.server.receive('initial', ch.data, NOW);
    const sends = [...iter(pair.server)].filter((e) => e.kind === 'send');
    const [sh, flight] = sends as { data: Uint8Array }[];
    pair.client.receive('initial', sh.data, NOW);
    // Split the flight: EE, then a CertificateRequest, then the rest. The transcripts now differ,
    // so the client must fail on the server's Finished, after accepting the request itself.
    const eeLen = 4 + ((flight.data[1] << 16) | (flight.data[2] << 8) | flight.data[3]);
    const cr = encodeHandshake({
      kind: 'certificate_request',
      certificateRequestContext: new Uint8Array(0),
      extensions: [{ kind: 'signature_algorithms', schemes: [0x0403] }],
    });
    pair.client.receive('handshake', flight.data.subarray(0, eeLen), NOW);
    pair.client.receive('handshake', cr, NOW);
    expect(alertOf(() => pair.client.receive('handshake', flight.data.subarray(eeLen), NOW))).toBe(
      'decrypt_error',
    );
  });
});

function* iter(s: TlsClient | TlsServer) {
  for (let ev = s.poll(); ev; ev = s.poll()) yield ev;
}

describe('arbitrary input', () => {
  const typed = (err: unknown) =>
    err instanceof TlsAlertError || err instanceof QuicProtocolViolation;

  it('a server fed arbitrary Initial bytes waits or throws a typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          freshServer().receive('initial', bytes, NOW);
        } catch (err) {
          expect(typed(err)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('a server fed a ClientHello with random byte changes completes or throws a typed error', () => {
    const base = withExtensions(clientHello(), (e) => e);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (edits) => {
          const bytes = base.slice();
          for (const [i, x] of edits) bytes[i] ^= x;
          try {
            freshServer().receive('initial', bytes, NOW);
          } catch (err) {
            expect(typed(err)).toBe(true);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('a client fed an arbitrary server_hello body waits or throws a typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (body) => {
        const c = startedClient();
        try {
          c.receive('initial', Uint8Array.of(2, 0, 0, body.length, ...body), NOW);
        } catch (err) {
          expect(typed(err)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
