/**
 * The server side of the TLS 1.3 handshake over QUIC (RFC 9846 §2, §4; RFC 9001 §4):
 *
 *   wait_ch:       ClientHello -> HelloRetryRequest (then wait_ch2), or
 *                  ServerHello (initial) + EncryptedExtensions [Certificate CertificateVerify]
 *                  Finished (handshake)
 *   wait_ch2:      ClientHello2 -> as above, never a second HRR
 *   wait_finished: client Finished -> complete, NewSessionTicket (application)
 *   connected:     nothing more is expected from the client
 */
import { suiteParams } from '../../crypto/index.js';
import { type Random, randomBytes } from '../../util/random.js';
import { bytesEqual, concatBytes } from '../../wire/index.js';
import { TlsAlertError } from '../alert.js';
import { certificateVerifyContent, signWithScheme } from '../certs/signature.js';
import { HandshakeType, ProtocolVersion, PskKeyExchangeMode } from '../constants.js';
import { alpnId, alpnName, findExtension } from '../extensions/index.js';
import type { Extension, PreSharedKeyOfferExtension } from '../extensions/types.js';
import {
  type ClientHello,
  decodeRawHandshake,
  encodeHandshake,
  type RawHandshake,
  truncatedClientHelloLength,
} from '../messages/index.js';
import { checkQuicClientHello } from '../quic.js';
import { type ServerCredential, selectCredential } from './credential.js';
import { generateKeyShare } from './key-exchange.js';
import { finishedVerifyData, KeySchedule, macEqual, resumptionPsk } from './key-schedule.js';
import { groupIds, suiteIds } from './negotiation.js';
import { KeylogLabel, TlsSession, unexpected } from './session.js';
import { openTicket, sealTicket, TICKET_KEY_LENGTH } from './ticket.js';
import type { CryptoLevel, TlsServerConfig } from './types.js';

type ServerState = 'wait_ch' | 'wait_ch2' | 'wait_finished' | 'connected';

const DEFAULT_TICKET_LIFETIME = 86_400;
const MAX_TICKET_LIFETIME = 604_800;

/** What the HelloRetryRequest committed the server to (RFC 9846 §4.1.4). */
interface RetryState {
  readonly suite: number;
  readonly group: number;
  readonly cookie: Uint8Array | undefined;
}

/** An accepted PSK. */
interface AcceptedPsk {
  readonly index: number;
  readonly psk: Uint8Array;
}

export class TlsServer extends TlsSession {
  readonly role = 'server';
  readonly #config: TlsServerConfig;
  readonly #random: Random;
  readonly #suites: number[];
  readonly #groups: number[];
  #state: ServerState = 'wait_ch';
  #retry: RetryState | undefined;
  #schedule: KeySchedule | undefined;
  #clientHandshakeSecret: Uint8Array | undefined;
  #clientAppSecret: Uint8Array | undefined;
  #alpn = '';
  #serverName: string | undefined;
  #clientParams: Uint8Array | undefined;
  #resumed = false;
  #ticketsAllowed = false;

  constructor(config: TlsServerConfig, random: Random) {
    super(config.limits);
    if (config.credentials.length === 0) throw new RangeError('server needs a certificate');
    if (config.alpn.length === 0) throw new RangeError('QUIC requires at least one ALPN protocol');
    if (config.tickets && config.tickets.key.length !== TICKET_KEY_LENGTH) {
      throw new RangeError(`ticket key must be ${TICKET_KEY_LENGTH} bytes`);
    }
    this.#config = config;
    this.#random = random;
    this.#suites = suiteIds(config.cipherSuites);
    this.#groups = groupIds(config.groups);
  }

  /** The SNI the client sent, once the ClientHello is processed. */
  get serverName(): string | undefined {
    return this.#serverName;
  }

  protected expectedLevel(): CryptoLevel {
    switch (this.#state) {
      case 'wait_ch':
      case 'wait_ch2':
        return 'initial';
      case 'wait_finished':
        return 'handshake';
      case 'connected':
        return 'application';
    }
  }

  protected handle(_level: CryptoLevel, msg: RawHandshake, now: number): void {
    switch (this.#state) {
      case 'wait_ch':
      case 'wait_ch2':
        if (msg.type !== HandshakeType.client_hello) unexpected(msg, this.#state);
        this.#onClientHello(msg, now);
        return;
      case 'wait_finished':
        if (msg.type !== HandshakeType.finished) unexpected(msg, this.#state);
        this.#onFinished(msg, now);
        return;
      case 'connected':
        unexpected(msg, this.#state);
    }
  }

  #onClientHello(msg: RawHandshake, now: number): void {
    const ch = decodeRawHandshake(msg) as ClientHello;
    checkQuicClientHello(ch);
    const retry = this.#retry;

    const suiteId = retry ? retry.suite : this.#suites.find((s) => ch.cipherSuites.includes(s));
    if (suiteId === undefined || !ch.cipherSuites.includes(suiteId)) {
      // RFC 9846 §4.1.1: with no acceptable parameters the server "MUST abort the handshake with
      // either a handshake_failure or insufficient_security fatal alert".
      throw new TlsAlertError(
        retry ? 'illegal_parameter' : 'handshake_failure',
        'no common cipher suite',
      );
    }

    const groupsExt = findExtension(ch.extensions, 'supported_groups');
    const sharesExt = findExtension(ch.extensions, 'key_share');
    if (!groupsExt || !sharesExt || !('clientShares' in sharesExt)) {
      // RFC 9846 §9.2: a ClientHello for (EC)DHE "MUST contain" both; a missing mandatory
      // extension is "missing_extension". Only psk_dhe_ke and certificate modes are served.
      throw new TlsAlertError(
        'missing_extension',
        'ClientHello without supported_groups/key_share',
      );
    }
    const shares = sharesExt.clientShares;
    for (const s of shares) {
      if (!groupsExt.groups.includes(s.group)) {
        // RFC 9846 §4.2.8: "Servers MAY check for violations of these rules and abort the
        // handshake with an illegal_parameter alert if one is violated."
        throw new TlsAlertError('illegal_parameter', `key share for unlisted group ${s.group}`);
      }
    }
    const group = retry ? retry.group : this.#groups.find((g) => groupsExt.groups.includes(g));
    if (group === undefined) {
      // RFC 9846 §4.1.1: no overlap in supported_groups -> handshake_failure.
      throw new TlsAlertError('handshake_failure', 'no common group');
    }
    const share = shares.find((s) => s.group === group);

    if (retry) this.#checkSecondHello(ch, retry);
    else if (!share) {
      this.#helloRetry(ch, msg, suiteId, group);
      return;
    }

    this.clientRandom = ch.random;
    const sni = findExtension(ch.extensions, 'server_name');
    this.#serverName = sni?.hostName;
    this.#alpn = this.#selectAlpn(ch);
    const clientParams = findExtension(ch.extensions, 'quic_transport_parameters')!.data;
    this.#clientParams = clientParams;
    // The QUIC layer validates the client's parameters (and may throw) before we answer.
    const ourParams = this.callHook(() =>
      this.#config.transportParameters(clientParams, {
        serverName: this.#serverName,
        alpn: this.#alpn,
      }),
    );

    const suite = this.setSuite(suiteId);
    const accepted = this.#acceptPsk(ch, msg, now);
    this.transcript.add(msg.raw);

    const keyShare = generateKeyShare(group, this.#random);
    const shared = keyShare.computeSecret(share!.keyExchange);
    const shExts: Extension[] = [
      { kind: 'supported_versions', selectedVersion: ProtocolVersion.TLS_1_3 },
      { kind: 'key_share', serverShare: { group, keyExchange: keyShare.publicKey } },
    ];
    if (accepted) shExts.push({ kind: 'pre_shared_key', selectedIdentity: accepted.index });
    const sh = encodeHandshake({
      kind: 'server_hello',
      random: randomBytes(this.#random, 32),
      legacySessionIdEcho: ch.legacySessionId,
      cipherSuite: suiteId,
      extensions: shExts,
    });
    this.transcript.add(sh);
    this.send('initial', sh);

    this.#resumed = accepted !== undefined;
    this.#schedule = new KeySchedule(suite.hash, accepted?.psk);
    const hs = this.#schedule.handshake(shared, this.transcript.digest());
    this.#clientHandshakeSecret = hs.client;
    this.installKeys('handshake', 'write', hs.server, KeylogLabel.serverHandshake);
    this.installKeys('handshake', 'read', hs.client, KeylogLabel.clientHandshake);

    const flight: Uint8Array[] = [];
    const add = (m: Uint8Array): void => {
      this.transcript.add(m);
      flight.push(m);
    };
    add(
      encodeHandshake({
        kind: 'encrypted_extensions',
        extensions: [
          { kind: 'alpn', protocols: [alpnId(this.#alpn)] },
          { kind: 'quic_transport_parameters', data: ourParams },
        ],
      }),
    );
    if (!accepted) {
      const cred = selectCredential(this.#config.credentials, this.#serverName);
      const scheme = this.#selectScheme(ch, cred);
      add(
        encodeHandshake({
          kind: 'certificate',
          certificateRequestContext: new Uint8Array(0),
          certificateList: cred.chain.map((certData) => ({ certData, extensions: [] })),
        }),
      );
      const content = certificateVerifyContent('server', this.transcript.digest());
      add(
        encodeHandshake({
          kind: 'certificate_verify',
          algorithm: scheme,
          signature: signWithScheme(scheme, cred.key, content),
        }),
      );
    }
    const verifyData = finishedVerifyData(suite.hash, hs.server, this.transcript.digest());
    add(encodeHandshake({ kind: 'finished', verifyData }));
    this.send('handshake', concatBytes(...flight));

    const app = this.#schedule.application(this.transcript.digest());
    this.installKeys('application', 'write', app.server, KeylogLabel.serverApplication);
    this.#clientAppSecret = app.client;

    const modes = findExtension(ch.extensions, 'psk_key_exchange_modes');
    this.#ticketsAllowed =
      this.#config.tickets !== undefined &&
      modes?.modes.includes(PskKeyExchangeMode.psk_dhe_ke) === true;
    this.#state = 'wait_finished';
  }

  /** Sends a HelloRetryRequest asking for a share in `group` (RFC 9846 §4.1.4). */
  #helloRetry(ch: ClientHello, msg: RawHandshake, suiteId: number, group: number): void {
    const cookie = this.#config.hrrCookie ? randomBytes(this.#random, 16) : undefined;
    const exts: Extension[] = [
      { kind: 'supported_versions', selectedVersion: ProtocolVersion.TLS_1_3 },
      { kind: 'key_share', selectedGroup: group },
    ];
    if (cookie) exts.push({ kind: 'cookie', cookie });
    const hrr = encodeHandshake({
      kind: 'hello_retry_request',
      legacySessionIdEcho: ch.legacySessionId,
      cipherSuite: suiteId,
      extensions: exts,
    });
    this.setSuite(suiteId);
    this.transcript.add(msg.raw);
    // RFC 9846 §4.4.1: ClientHello1 becomes message_hash(Hash(ClientHello1)).
    this.transcript.replaceWithMessageHash();
    this.transcript.add(hrr);
    this.#retry = { suite: suiteId, group, cookie };
    this.#state = 'wait_ch2';
    this.send('initial', hrr);
  }

  /** The ClientHello after an HRR must answer it (RFC 9846 §4.1.2, §4.2.2, §4.2.8). */
  #checkSecondHello(ch: ClientHello, retry: RetryState): void {
    const ks = findExtension(ch.extensions, 'key_share');
    if (
      !ks ||
      !('clientShares' in ks) ||
      ks.clientShares.length !== 1 ||
      ks.clientShares[0].group !== retry.group
    ) {
      // RFC 9846 §4.2.8: after an HRR the client replaces the shares with "a single
      // KeyShareEntry for the indicated group".
      throw new TlsAlertError('illegal_parameter', 'second ClientHello lacks the requested share');
    }
    if (retry.cookie) {
      const c = findExtension(ch.extensions, 'cookie');
      // RFC 9846 §4.2.2: the client "MUST copy the contents of the extension received in the
      // HelloRetryRequest into a "cookie" extension in the new ClientHello".
      if (!c) throw new TlsAlertError('missing_extension', 'second ClientHello without the cookie');
      if (!bytesEqual(c.cookie, retry.cookie)) {
        throw new TlsAlertError('illegal_parameter', 'second ClientHello with a wrong cookie');
      }
    }
  }

  /** Server preference: the first configured protocol the client offers (RFC 7301 §3.2). */
  #selectAlpn(ch: ClientHello): string {
    const offered = findExtension(ch.extensions, 'alpn')!.protocols.map(alpnName);
    const chosen = this.#config.alpn.find((p) => offered.includes(p));
    if (chosen === undefined) {
      // RFC 7301 §3.2: no overlap -> "no_application_protocol" alert; RFC 9001 §8.1.
      throw new TlsAlertError(
        'no_application_protocol',
        `no common protocol in ${offered.join(',')}`,
      );
    }
    return chosen;
  }

  /** The client's most preferred scheme our key can sign with (RFC 9846 §4.4.3). */
  #selectScheme(ch: ClientHello, cred: ServerCredential): number {
    const ext = findExtension(ch.extensions, 'signature_algorithms');
    if (!ext) {
      // RFC 9846 §4.2.3: "If a server is authenticating via a certificate and the client has not
      // sent a "signature_algorithms" extension, then the server MUST abort the handshake with
      // a "missing_extension" alert."
      throw new TlsAlertError('missing_extension', 'ClientHello without signature_algorithms');
    }
    const scheme = ext.schemes.find((s) => cred.schemes.includes(s));
    if (scheme === undefined) {
      throw new TlsAlertError('handshake_failure', 'no signature scheme for our certificate');
    }
    return scheme;
  }

  /**
   * Picks the first offered ticket we can open and use, and validates its binder (RFC 9846
   * §4.2.11). Unusable tickets are ignored (full handshake); a bad binder is decrypt_error.
   */
  #acceptPsk(ch: ClientHello, msg: RawHandshake, now: number): AcceptedPsk | undefined {
    const offer = findExtension(ch.extensions, 'pre_shared_key') as
      | PreSharedKeyOfferExtension
      | undefined;
    if (!offer) return undefined;
    const modes = findExtension(ch.extensions, 'psk_key_exchange_modes');
    if (!modes) {
      // RFC 9846 §4.2.9: "If clients offer "pre_shared_key" without a "psk_key_exchange_modes"
      // extension, servers MUST abort the handshake."
      throw new TlsAlertError('missing_extension', 'pre_shared_key without psk_key_exchange_modes');
    }
    const tickets = this.#config.tickets;
    if (!tickets || !modes.modes.includes(PskKeyExchangeMode.psk_dhe_ke)) return undefined;
    const suite = this.suite!;
    for (let i = 0; i < offer.identities.length; i++) {
      const state = openTicket(tickets.key, offer.identities[i].identity);
      if (!state || suiteParams(state.suite).hash !== suite.hash) continue;
      // RFC 9846 §4.6.1: a ticket is not used beyond its lifetime (server clock).
      const age = now - state.issuedAt;
      if (age < 0 || age > state.lifetime * 1000) continue;
      if (state.serverName !== (this.#serverName ?? '')) continue;
      // RFC 9846 §4.2.11.2: binder over Transcript-Hash(Truncate(ClientHello)) (after an HRR,
      // over message_hash, HelloRetryRequest, Truncate(ClientHello2)).
      const truncated = msg.raw.subarray(0, truncatedClientHelloLength(msg.raw));
      const hash = this.transcript.digestWith(truncated);
      const binderKey = new KeySchedule(suite.hash, state.psk).binderKey();
      const expected = finishedVerifyData(suite.hash, binderKey, hash);
      if (!macEqual(offer.binders[i], expected)) {
        // RFC 9846 §6.2: decrypt_error covers being unable to "validate ... a PSK binder".
        throw new TlsAlertError('decrypt_error', 'PSK binder does not verify');
      }
      return { index: i, psk: state.psk };
    }
    return undefined;
  }

  #onFinished(msg: RawHandshake, now: number): void {
    const suite = this.suite!;
    const fin = decodeRawHandshake(msg, { hashLength: suite.hashLength });
    if (fin.kind !== 'finished') unexpected(msg, this.#state);
    const expected = finishedVerifyData(
      suite.hash,
      this.#clientHandshakeSecret!,
      this.transcript.digest(),
    );
    if (!macEqual(fin.verifyData, expected)) {
      // RFC 9846 §4.4.4: a Finished that does not verify is "decrypt_error".
      throw new TlsAlertError('decrypt_error', 'client Finished does not verify');
    }
    this.transcript.add(msg.raw);
    const rms = this.#schedule!.resumptionMasterSecret(this.transcript.digest());
    this.installKeys('application', 'read', this.#clientAppSecret!, KeylogLabel.clientApplication);
    this.#clientHandshakeSecret = undefined;
    this.#clientAppSecret = undefined;
    this.#state = 'connected';
    this.markComplete();
    this.emit({
      kind: 'complete',
      alpn: this.#alpn,
      peerTransportParams: this.#clientParams!,
      resumed: this.#resumed,
      suite: suite.id,
      serverName: this.#serverName,
    });
    if (this.#ticketsAllowed) this.#sendTicket(rms, now);
  }

  /** One NewSessionTicket carrying the sealed resumption state (RFC 9846 §4.6.1). */
  #sendTicket(rms: Uint8Array, now: number): void {
    const tickets = this.#config.tickets!;
    const suite = this.suite!;
    const lifetime = Math.min(
      tickets.lifetimeSeconds ?? DEFAULT_TICKET_LIFETIME,
      MAX_TICKET_LIFETIME,
    );
    const ageAddBytes = randomBytes(this.#random, 4);
    const ageAdd =
      ((ageAddBytes[0] << 24) | (ageAddBytes[1] << 16) | (ageAddBytes[2] << 8) | ageAddBytes[3]) >>>
      0;
    const nonce = Uint8Array.of(0); // one ticket per connection: the nonce only needs to be unique here
    const ticket = sealTicket(tickets.key, this.#random, {
      suite: suite.id,
      psk: resumptionPsk(suite.hash, rms, nonce),
      issuedAt: now,
      lifetime,
      ageAdd,
      alpn: alpnId(this.#alpn),
      serverName: this.#serverName ?? '',
    });
    this.send(
      'application',
      encodeHandshake({
        kind: 'new_session_ticket',
        ticketLifetime: lifetime,
        ticketAgeAdd: ageAdd,
        ticketNonce: nonce,
        ticket,
        extensions: [],
      }),
    );
  }
}

/** Creates a server session; feed it the client's Initial CRYPTO data with `receive`. */
export function createTlsServer(config: TlsServerConfig, random: Random): TlsServer {
  return new TlsServer(config, random);
}
