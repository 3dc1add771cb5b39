/** fast-check generators of legal TLS handshake values, shared by the TLS property tests. */
import fc from 'fast-check';
import {
  type Extension,
  type ExtensionContext,
  ExtensionType,
  extensionTypeOf,
  type HandshakeMessage,
} from '../../src/tls/index.js';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
export const bytes = (minLength: number, maxLength: number) =>
  fc.uint8Array({ minLength, maxLength });

const printable = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
const hostName = fc.string({ unit: printable, minLength: 1, maxLength: 40 });

const REGISTERED = new Set<number>(Object.values(ExtensionType));
/** An extension type neither interpreted nor listed in RFC 9846's table. */
const unknownType = u16.filter((t) => !REGISTERED.has(t));
const unknownExt: fc.Arbitrary<Extension> = fc.record({
  kind: fc.constant('unknown' as const),
  type: unknownType,
  data: bytes(0, 40),
});

const keyShareEntry = fc.record({ group: u16, keyExchange: bytes(1, 80) });
const u16List = (max: number) => fc.array(u16, { minLength: 1, maxLength: max });

/** A ClientHello pre_shared_key: 1..4 identities with as many binders. */
export const pskOffer: fc.Arbitrary<Extension> = fc.integer({ min: 1, max: 4 }).chain((n) =>
  fc.record({
    kind: fc.constant('pre_shared_key' as const),
    identities: fc.array(fc.record({ identity: bytes(1, 40), obfuscatedTicketAge: u32 }), {
      minLength: n,
      maxLength: n,
    }),
    binders: fc.array(bytes(32, 64), { minLength: n, maxLength: n }),
  }),
);

/** Arbitraries of every interpreted extension legal in `ctx`. */
function interpreted(ctx: ExtensionContext): fc.Arbitrary<Extension>[] {
  const out: fc.Arbitrary<Extension>[] = [];
  const inCtx = (...cs: ExtensionContext[]) => cs.includes(ctx);
  if (inCtx('client_hello', 'certificate_request')) {
    out.push(fc.record({ kind: fc.constant('server_name' as const), hostName }));
  }
  if (inCtx('encrypted_extensions')) out.push(fc.constant({ kind: 'server_name' as const }));
  if (inCtx('client_hello', 'encrypted_extensions')) {
    out.push(fc.record({ kind: fc.constant('supported_groups' as const), groups: u16List(12) }));
    out.push(
      fc.record({ kind: fc.constant('quic_transport_parameters' as const), data: bytes(0, 60) }),
    );
    out.push(
      fc.record({
        kind: fc.constant('alpn' as const),
        protocols: fc.array(bytes(1, 20), {
          minLength: 1,
          maxLength: ctx === 'client_hello' ? 5 : 1,
        }),
      }),
    );
  }
  if (inCtx('client_hello', 'certificate_request')) {
    out.push(
      fc.record({ kind: fc.constant('signature_algorithms' as const), schemes: u16List(12) }),
    );
    out.push(
      fc.record({ kind: fc.constant('signature_algorithms_cert' as const), schemes: u16List(5) }),
    );
  }
  if (inCtx('client_hello', 'encrypted_extensions')) {
    out.push(fc.constant({ kind: 'early_data' as const }));
  }
  if (inCtx('new_session_ticket')) {
    out.push(fc.record({ kind: fc.constant('early_data' as const), maxEarlyDataSize: u32 }));
  }
  if (inCtx('client_hello', 'hello_retry_request')) {
    out.push(fc.record({ kind: fc.constant('cookie' as const), cookie: bytes(1, 60) }));
  }
  if (inCtx('client_hello')) {
    out.push(
      fc.record({
        kind: fc.constant('psk_key_exchange_modes' as const),
        modes: fc.array(u8, { minLength: 1, maxLength: 4 }),
      }),
    );
    out.push(
      fc.record({
        kind: fc.constant('key_share' as const),
        clientShares: fc.uniqueArray(keyShareEntry, { maxLength: 4, selector: (e) => e.group }),
      }),
    );
    out.push(pskOffer);
  }
  if (inCtx('server_hello')) {
    out.push(fc.record({ kind: fc.constant('key_share' as const), serverShare: keyShareEntry }));
    out.push(fc.record({ kind: fc.constant('pre_shared_key' as const), selectedIdentity: u16 }));
  }
  if (inCtx('hello_retry_request')) {
    out.push(fc.record({ kind: fc.constant('key_share' as const), selectedGroup: u16 }));
  }
  return out;
}

function supportedVersions(ctx: ExtensionContext): fc.Arbitrary<Extension> {
  if (ctx === 'client_hello') {
    return fc.record({ kind: fc.constant('supported_versions' as const), versions: u16List(10) });
  }
  return fc.record({ kind: fc.constant('supported_versions' as const), selectedVersion: u16 });
}

/**
 * A legal extension block for `ctx`: distinct types, pre_shared_key last in a ClientHello, and
 * supported_versions always present in hellos (which also meets their minimum block length).
 */
export function extensionBlock(ctx: ExtensionContext, maxLength = 6): fc.Arbitrary<Extension[]> {
  const pool = [...interpreted(ctx), unknownExt];
  const base = fc.uniqueArray(fc.oneof(...pool), { maxLength, selector: extensionTypeOf });
  const hello = ctx === 'client_hello' || ctx === 'server_hello' || ctx === 'hello_retry_request';
  const withVersions = hello
    ? fc.tuple(base, supportedVersions(ctx), fc.nat()).map(([list, sv, at]) => {
        const rest: Extension[] = list.filter((e) => e.kind !== 'supported_versions');
        rest.splice(at % (rest.length + 1), 0, sv);
        return rest;
      })
    : base;
  return withVersions.map((list) => {
    if (ctx !== 'client_hello') return list;
    const psk = list.filter((e) => e.kind === 'pre_shared_key');
    return [...list.filter((e) => e.kind !== 'pre_shared_key'), ...psk];
  });
}

const random = bytes(32, 32);
const sessionId = bytes(0, 32);
const suites = u16List(8);

export const clientHello = fc.record({
  kind: fc.constant('client_hello' as const),
  random,
  legacySessionId: sessionId,
  cipherSuites: suites,
  extensions: extensionBlock('client_hello'),
});

export const serverHello = fc.record({
  kind: fc.constant('server_hello' as const),
  random,
  legacySessionIdEcho: sessionId,
  cipherSuite: u16,
  extensions: extensionBlock('server_hello'),
});

export const helloRetryRequest = fc.record({
  kind: fc.constant('hello_retry_request' as const),
  legacySessionIdEcho: sessionId,
  cipherSuite: u16,
  extensions: extensionBlock('hello_retry_request'),
});

export const encryptedExtensions = fc.record({
  kind: fc.constant('encrypted_extensions' as const),
  extensions: extensionBlock('encrypted_extensions'),
});

export const certificateRequest = fc.record({
  kind: fc.constant('certificate_request' as const),
  certificateRequestContext: bytes(0, 40),
  extensions: extensionBlock('certificate_request'),
});

export const certificate = fc.record({
  kind: fc.constant('certificate' as const),
  certificateRequestContext: bytes(0, 40),
  certificateList: fc.array(
    fc.record({ certData: bytes(1, 200), extensions: extensionBlock('certificate', 2) }),
    { maxLength: 4 },
  ),
});

export const certificateVerify = fc.record({
  kind: fc.constant('certificate_verify' as const),
  algorithm: u16,
  signature: bytes(0, 140),
});

export const finished = fc
  .constantFrom(32, 48)
  .chain((n) => fc.record({ kind: fc.constant('finished' as const), verifyData: bytes(n, n) }));

export const newSessionTicket = fc.record({
  kind: fc.constant('new_session_ticket' as const),
  ticketLifetime: fc.integer({ min: 0, max: 604_800 }),
  ticketAgeAdd: u32,
  ticketNonce: bytes(0, 40),
  ticket: bytes(1, 120),
  extensions: extensionBlock('new_session_ticket'),
});

export const keyUpdate = fc.record({
  kind: fc.constant('key_update' as const),
  requestUpdate: fc.constantFrom(0 as const, 1 as const),
});

export const endOfEarlyData = fc.constant({ kind: 'end_of_early_data' as const });

/** Any handshake message. */
export const handshakeMessage: fc.Arbitrary<HandshakeMessage> = fc.oneof(
  clientHello,
  serverHello,
  helloRetryRequest,
  encryptedExtensions,
  certificateRequest,
  certificate,
  certificateVerify,
  finished,
  newSessionTicket,
  keyUpdate,
  endOfEarlyData,
);
