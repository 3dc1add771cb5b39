/**
 * The client side of the TLS 1.3 handshake over QUIC (RFC 9846 §2, §4; RFC 9001 §4):
 *
 *   start:        ClientHello                                   (initial)
 *   wait_sh:      ServerHello | HelloRetryRequest (once)        (initial)
 *   wait_ee:      EncryptedExtensions                           (handshake)
 *   wait_cert_cr: [CertificateRequest] Certificate              (handshake; skipped on resumption)
 *   wait_cv:      CertificateVerify                             (handshake)
 *   wait_finished: Finished  -> [Certificate(empty)] Finished   (handshake)
 *   connected:    NewSessionTicket                              (application)
 */

import { createHash, type X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { HASH_LENGTH, type HashName, suiteParams } from '../../crypto/index.js';
import { type Random, randomBytes } from '../../util/random.js';
import { bytesEqual, concatBytes } from '../../wire/index.js';
import { TlsAlertError } from '../alert.js';
import {
  CERTIFICATE_VERIFY_SCHEMES,
  certificateVerifyContent,
  SIGNATURE_ALGORITHMS,
  verifyWithScheme,
} from '../certs/signature.js';
import { verifyServerCertificates } from '../certs/verify.js';
import { HandshakeType, ProtocolVersion, PskKeyExchangeMode } from '../constants.js';
import { alpnId, alpnName, extensionTypeOf, findExtension } from '../extensions/index.js';
import type { Extension, KeyShareEntry } from '../extensions/types.js';
import { ExtensionType } from '../extensions/types.js';
import {
  type CertificateVerify,
  type ClientHello,
  decodeRawHandshake,
  type EncryptedExtensions,
  encodeHandshake,
  type HelloRetryRequest,
  type NewSessionTicket,
  patchBinders,
  type RawHandshake,
  type ServerHello,
  truncatedClientHelloLength,
} from '../messages/index.js';
import { checkQuicEncryptedExtensions, QuicProtocolViolation } from '../quic.js';
import { generateKeyShare, type KeyShare } from './key-exchange.js';
import {
  finishedVerifyData,
  KeySchedule,
  macEqual,
  resumptionPsk,
  type TrafficSecrets,
} from './key-schedule.js';
import { checkSolicited, groupIds, suiteIds } from './negotiation.js';
import { KeylogLabel, TlsSession, unexpected } from './session.js';
import type { StoredTicket } from './ticket.js';
import type { CryptoLevel, TlsClientConfig } from './types.js';

type ClientState =
  | 'start'
  | 'wait_sh'
  | 'wait_ee'
  | 'wait_cert_cr'
  | 'wait_cert'
  | 'wait_cv'
  | 'wait_finished'
  | 'connected';

/** RFC 9001 §4.6.1: the only max_early_data_size a QUIC server may send. */
const QUIC_EARLY_DATA_SENTINEL = 0xffff_ffff;
/** RFC 9846 §4.6.1: ticket lifetimes are capped at seven days. */
const MAX_TICKET_LIFETIME = 604_800;

interface OfferedPsk {
  readonly ticket: StoredTicket;
  readonly hash: HashName;
}

export class TlsClient extends TlsSession {
  readonly role = 'client';
  readonly #config: TlsClientConfig;
  readonly #random: Random;
  readonly #suites: number[];
  readonly #groups: number[];
  readonly #alpn: Uint8Array[];
  #state: ClientState = 'start';
  #keyShares: KeyShare[] = [];
  #offered = new Set<number>();
  #psk: OfferedPsk | undefined;
  #cookie: Uint8Array | undefined;
  #hrrSuite: number | undefined;
  #schedule: KeySchedule | undefined;
  #hs: TrafficSecrets | undefined;
  #resumed = false;
  #negotiatedAlpn = '';
  #peerParams: Uint8Array | undefined;
  #leaf: X509Certificate | undefined;
  #certRequestContext: Uint8Array | undefined;
  #resumptionMaster: Uint8Array | undefined;

  constructor(config: TlsClientConfig, random: Random) {
    super(config.limits);
    if (config.alpn.length === 0) throw new RangeError('QUIC requires at least one ALPN protocol');
    this.#config = config;
    this.#random = random;
    this.#suites = suiteIds(config.cipherSuites);
    this.#groups = groupIds(config.groups);
    this.#alpn = config.alpn.map((name) => alpnId(name));
  }

  /** The server's verified end-entity certificate (undefined on resumption or before it). */
  get peerCertificate(): X509Certificate | undefined {
    return this.#leaf;
  }

  /** Produces the ClientHello (RFC 9001 §4.1.3: the client starts by requesting bytes). */
  start(now: number): void {
    this.checkAlive();
    if (this.#state !== 'start') throw new Error('TlsClient.start called twice');
    try {
      const shareGroups = this.#config.keyShareGroups?.length
        ? groupIds(this.#config.keyShareGroups)
        : [this.#groups[0]];
      for (const g of shareGroups) {
        if (!this.#groups.includes(g)) throw new RangeError('key share group not in groups');
        this.#keyShares.push(generateKeyShare(g, this.#random));
      }
      this.clientRandom = randomBytes(this.#random, 32);
      this.#psk = this.#usableTicket(now);
      const ch = this.#clientHello(now);
      this.transcript.add(ch);
      this.#state = 'wait_sh';
      this.send('initial', ch);
    } catch (err) {
      this.fail(err);
    }
  }

  protected expectedLevel(): CryptoLevel {
    switch (this.#state) {
      case 'start':
      case 'wait_sh':
        return 'initial';
      case 'connected':
        return 'application';
      default:
        return 'handshake';
    }
  }

  protected handle(_level: CryptoLevel, msg: RawHandshake, now: number): void {
    switch (this.#state) {
      case 'wait_sh':
        if (msg.type !== HandshakeType.server_hello) unexpected(msg, this.#state);
        this.#onServerHello(msg, now);
        return;
      case 'wait_ee':
        if (msg.type !== HandshakeType.encrypted_extensions) unexpected(msg, this.#state);
        this.#onEncryptedExtensions(msg);
        return;
      case 'wait_cert_cr':
        if (msg.type === HandshakeType.certificate_request) {
          const cr = decodeRawHandshake(msg);
          if (cr.kind !== 'certificate_request') unexpected(msg, this.#state);
          // RFC 9846 §4.3.2: signature_algorithms "MUST be specified".
          if (!findExtension(cr.extensions, 'signature_algorithms')) {
            throw new TlsAlertError(
              'missing_extension',
              'CertificateRequest without signature_algorithms',
            );
          }
          this.#certRequestContext = cr.certificateRequestContext;
          this.transcript.add(msg.raw);
          this.#state = 'wait_cert';
          return;
        }
        if (msg.type !== HandshakeType.certificate) unexpected(msg, this.#state);
        this.#onCertificate(msg, now);
        return;
      case 'wait_cert':
        if (msg.type !== HandshakeType.certificate) unexpected(msg, this.#state);
        this.#onCertificate(msg, now);
        return;
      case 'wait_cv':
        if (msg.type !== HandshakeType.certificate_verify) unexpected(msg, this.#state);
        this.#onCertificateVerify(msg);
        return;
      case 'wait_finished':
        if (msg.type !== HandshakeType.finished) unexpected(msg, this.#state);
        this.#onFinished(msg);
        return;
      case 'connected':
        this.#onPostHandshake(msg, now);
        return;
      default:
        unexpected(msg, this.#state);
    }
  }

  /** The configured ticket if it may be offered now (RFC 9846 §4.2.11.1, §4.6.1). */
  #usableTicket(now: number): OfferedPsk | undefined {
    const t = this.#config.resumption;
    if (!t || t.serverName !== this.#config.serverName) return undefined;
    if (!this.#suites.includes(t.suite)) return undefined;
    const age = now - t.receivedAt;
    // "Clients MUST NOT attempt to use tickets which have ages greater than the ticket_lifetime".
    if (age < 0 || age > Math.min(t.lifetime, MAX_TICKET_LIFETIME) * 1000) return undefined;
    const hash = suiteParams(t.suite).hash;
    if (t.psk.length !== HASH_LENGTH[hash]) return undefined;
    return { ticket: t, hash };
  }

  #clientHello(now: number): Uint8Array {
    const cfg = this.#config;
    const exts: Extension[] = [];
    // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in "HostName"."
    if (isIP(cfg.serverName) === 0 && !cfg.serverName.startsWith('[')) {
      exts.push({ kind: 'server_name', hostName: cfg.serverName });
    }
    exts.push({ kind: 'supported_versions', versions: [ProtocolVersion.TLS_1_3] });
    exts.push({ kind: 'supported_groups', groups: this.#groups });
    exts.push({ kind: 'signature_algorithms', schemes: SIGNATURE_ALGORITHMS });
    const shares: KeyShareEntry[] = this.#keyShares.map((s) => ({
      group: s.group,
      keyExchange: s.publicKey,
    }));
    exts.push({ kind: 'key_share', clientShares: shares });
    exts.push({ kind: 'alpn', protocols: this.#alpn });
    exts.push({ kind: 'quic_transport_parameters', data: cfg.transportParameters });
    exts.push({ kind: 'psk_key_exchange_modes', modes: [PskKeyExchangeMode.psk_dhe_ke] });
    if (this.#cookie) exts.push({ kind: 'cookie', cookie: this.#cookie });
    const psk = this.#psk;
    if (psk) {
      const t = psk.ticket;
      const age = Math.max(0, Math.floor(now - t.receivedAt));
      // RFC 9846 §4.2.11.1: age in ms plus ticket_age_add, modulo 2^32.
      const obfuscatedTicketAge = (age + t.ageAdd) % 0x1_0000_0000;
      exts.push({
        kind: 'pre_shared_key',
        identities: [{ identity: t.ticket, obfuscatedTicketAge }],
        binders: [new Uint8Array(HASH_LENGTH[psk.hash])],
      });
    }
    this.#offered = new Set(exts.map(extensionTypeOf));
    const ch: ClientHello = {
      kind: 'client_hello',
      random: this.clientRandom!,
      legacySessionId: new Uint8Array(0), // RFC 9001 §8.4: no middlebox compatibility mode
      cipherSuites: this.#suites,
      extensions: exts,
    };
    const bytes = encodeHandshake(ch);
    if (psk) {
      // RFC 9846 §4.2.11.2: the binder covers the transcript up to Truncate(ClientHello).
      const truncated = bytes.subarray(0, truncatedClientHelloLength(bytes));
      const hash =
        this.#hrrSuite === undefined
          ? new Uint8Array(createHash(psk.hash).update(truncated).digest())
          : this.transcript.digestWith(truncated);
      const schedule = new KeySchedule(psk.hash, psk.ticket.psk);
      patchBinders(bytes, [finishedVerifyData(psk.hash, schedule.binderKey(), hash)]);
    }
    return bytes;
  }

  #onServerHello(msg: RawHandshake, now: number): void {
    const sh = decodeRawHandshake(msg) as ServerHello | HelloRetryRequest;
    if (sh.legacySessionIdEcho.length !== 0) {
      // RFC 9846 §4.1.3: a legacy_session_id_echo that differs from what the client sent
      // "MUST abort the handshake with an illegal_parameter alert".
      throw new TlsAlertError('illegal_parameter', 'legacy_session_id_echo is not empty');
    }
    if (!this.#suites.includes(sh.cipherSuite)) {
      // RFC 9846 §4.1.3: "A client which receives a cipher suite that was not offered MUST
      // abort the handshake with an illegal_parameter alert."
      throw new TlsAlertError(
        'illegal_parameter',
        `server chose unoffered suite ${sh.cipherSuite}`,
      );
    }
    const isHrr = sh.kind === 'hello_retry_request';
    checkSolicited(
      sh.extensions,
      this.#offered,
      isHrr ? 'HelloRetryRequest' : 'ServerHello',
      isHrr ? ExtensionType.cookie : undefined,
    );
    const version = findExtension(sh.extensions, 'supported_versions');
    if (!version || !('selectedVersion' in version)) {
      // RFC 9001 §4.2: "An endpoint MUST terminate the connection if a version of TLS older
      // than 1.3 is negotiated."
      throw new TlsAlertError('protocol_version', 'server did not select TLS 1.3');
    }
    if (version.selectedVersion !== ProtocolVersion.TLS_1_3) {
      // RFC 9846 §4.2.1: a selected_version not offered "MUST abort ... illegal_parameter".
      throw new TlsAlertError(
        'illegal_parameter',
        `selected_version 0x${version.selectedVersion.toString(16)}`,
      );
    }
    if (isHrr) this.#onHelloRetryRequest(sh, msg, now);
    else this.#onRealServerHello(sh, msg);
  }

  #onHelloRetryRequest(hrr: HelloRetryRequest, msg: RawHandshake, now: number): void {
    if (this.#hrrSuite !== undefined) {
      // RFC 9846 §4.1.4: "If a client receives a second HelloRetryRequest in the same
      // connection ... it MUST abort the handshake with an unexpected_message alert."
      throw new TlsAlertError('unexpected_message', 'second HelloRetryRequest');
    }
    const ks = findExtension(hrr.extensions, 'key_share');
    const cookie = findExtension(hrr.extensions, 'cookie');
    let group: number | undefined;
    if (ks) {
      if (!('selectedGroup' in ks)) throw new TlsAlertError('decode_error', 'HRR key_share form');
      group = ks.selectedGroup;
      // RFC 9846 §4.2.8: the selected_group must be in supported_groups and must not be a group
      // the client already sent a share for; otherwise "abort ... illegal_parameter".
      if (!this.#groups.includes(group) || this.#keyShares.some((s) => s.group === group)) {
        throw new TlsAlertError('illegal_parameter', `HRR selected group 0x${group.toString(16)}`);
      }
    }
    if (group === undefined && !cookie) {
      // RFC 9846 §4.1.4: "Clients MUST abort the handshake with an illegal_parameter alert if the
      // HelloRetryRequest would not result in any change in the ClientHello."
      throw new TlsAlertError('illegal_parameter', 'HelloRetryRequest changes nothing');
    }
    this.#hrrSuite = hrr.cipherSuite;
    const suite = this.setSuite(hrr.cipherSuite);
    // RFC 9846 §4.4.1: ClientHello1 is replaced by message_hash, then the HRR is hashed.
    this.transcript.replaceWithMessageHash();
    this.transcript.add(msg.raw);
    if (group !== undefined) this.#keyShares = [generateKeyShare(group, this.#random)];
    if (cookie) this.#cookie = cookie.cookie;
    // RFC 9846 §4.1.2: the client MAY drop PSKs "not compatible with the server's indicated
    // cipher suite".
    if (this.#psk && this.#psk.hash !== suite.hash) this.#psk = undefined;
    const ch2 = this.#clientHello(now);
    this.transcript.add(ch2);
    this.send('initial', ch2);
  }

  #onRealServerHello(sh: ServerHello, msg: RawHandshake): void {
    if (this.#hrrSuite !== undefined && sh.cipherSuite !== this.#hrrSuite) {
      // RFC 9846 §4.1.4: the ServerHello's cipher suite must match the HRR's, else
      // "illegal_parameter".
      throw new TlsAlertError('illegal_parameter', 'ServerHello suite differs from the HRR');
    }
    const suite = this.setSuite(sh.cipherSuite);
    this.transcript.add(msg.raw);
    const ks = findExtension(sh.extensions, 'key_share');
    if (!ks) {
      // psk_dhe_ke is the only mode offered, so a key_share is always required (§4.2.9).
      throw new TlsAlertError('missing_extension', 'ServerHello without key_share');
    }
    if (!('serverShare' in ks))
      throw new TlsAlertError('decode_error', 'ServerHello key_share form');
    const mine = this.#keyShares.find((s) => s.group === ks.serverShare.group);
    if (!mine) {
      // RFC 9846 §4.2.8: the server's share must be in a group the client offered a share for.
      throw new TlsAlertError('illegal_parameter', 'server key share for a group not offered');
    }
    const shared = mine.computeSecret(ks.serverShare.keyExchange);
    const pskExt = findExtension(sh.extensions, 'pre_shared_key');
    let psk: Uint8Array | undefined;
    if (pskExt) {
      if (!('selectedIdentity' in pskExt))
        throw new TlsAlertError('decode_error', 'pre_shared_key form');
      // RFC 9846 §4.2.11: "Clients MUST verify that the server's selected_identity is within the
      // range supplied by the client, that the server selected a cipher suite indicating a Hash
      // associated with the PSK ... illegal_parameter".
      if (!this.#psk || pskExt.selectedIdentity !== 0 || this.#psk.hash !== suite.hash) {
        throw new TlsAlertError('illegal_parameter', 'server selected an unusable PSK');
      }
      psk = this.#psk.ticket.psk;
      this.#resumed = true;
    }
    this.#keyShares = [];
    this.#schedule = new KeySchedule(suite.hash, psk);
    this.#hs = this.#schedule.handshake(shared, this.transcript.digest());
    this.installKeys('handshake', 'read', this.#hs.server, KeylogLabel.serverHandshake);
    this.installKeys('handshake', 'write', this.#hs.client, KeylogLabel.clientHandshake);
    this.#state = 'wait_ee';
  }

  #onEncryptedExtensions(msg: RawHandshake): void {
    const ee = decodeRawHandshake(msg) as EncryptedExtensions;
    checkSolicited(ee.extensions, this.#offered, 'EncryptedExtensions');
    checkQuicEncryptedExtensions(ee);
    const alpn = findExtension(ee.extensions, 'alpn')!;
    const chosen = alpn.protocols[0];
    if (!this.#alpn.some((p) => bytesEqual(p, chosen))) {
      // RFC 7301 §3.2 / RFC 9001 §8.1: the server must pick one of the offered protocols.
      throw new TlsAlertError('illegal_parameter', 'server selected an ALPN protocol not offered');
    }
    this.#negotiatedAlpn = alpnName(chosen);
    this.#peerParams = findExtension(ee.extensions, 'quic_transport_parameters')!.data;
    this.transcript.add(msg.raw);
    this.#state = this.#resumed ? 'wait_finished' : 'wait_cert_cr';
  }

  #onCertificate(msg: RawHandshake, now: number): void {
    const cert = decodeRawHandshake(msg);
    if (cert.kind !== 'certificate') unexpected(msg, this.#state);
    if (cert.certificateRequestContext.length !== 0) {
      // RFC 9846 §4.4.2: for server authentication "this field SHALL be zero length".
      throw new TlsAlertError('illegal_parameter', 'server Certificate with a request context');
    }
    this.#leaf = verifyServerCertificates(
      cert.certificateList.map((e) => e.certData),
      this.#config.serverName,
      this.#config.verify ?? {},
      now,
    );
    this.transcript.add(msg.raw);
    this.#state = 'wait_cv';
  }

  #onCertificateVerify(msg: RawHandshake): void {
    const cv = decodeRawHandshake(msg) as CertificateVerify;
    if (!CERTIFICATE_VERIFY_SCHEMES.includes(cv.algorithm)) {
      // RFC 9846 §4.4.3: the algorithm "MUST be one offered in the client's
      // signature_algorithms" (PKCS#1 v1.5 never is, for CertificateVerify).
      throw new TlsAlertError(
        'illegal_parameter',
        `CertificateVerify scheme 0x${cv.algorithm.toString(16)}`,
      );
    }
    const content = certificateVerifyContent('server', this.transcript.digest());
    if (!verifyWithScheme(cv.algorithm, this.#leaf!.publicKey, content, cv.signature)) {
      // RFC 9846 §4.4.3: "If the verification fails, the receiver MUST terminate the handshake
      // with a "decrypt_error" alert."
      throw new TlsAlertError('decrypt_error', 'CertificateVerify signature does not verify');
    }
    this.transcript.add(msg.raw);
    this.#state = 'wait_finished';
  }

  #onFinished(msg: RawHandshake): void {
    const suite = this.suite!;
    const fin = decodeRawHandshake(msg, { hashLength: suite.hashLength });
    if (fin.kind !== 'finished') unexpected(msg, this.#state);
    const expected = finishedVerifyData(suite.hash, this.#hs!.server, this.transcript.digest());
    if (!macEqual(fin.verifyData, expected)) {
      // RFC 9846 §4.4.4: incorrect Finished contents "MUST terminate the connection with a
      // decrypt_error alert".
      throw new TlsAlertError('decrypt_error', 'server Finished does not verify');
    }
    this.transcript.add(msg.raw);
    const app = this.#schedule!.application(this.transcript.digest());
    const out: Uint8Array[] = [];
    if (this.#certRequestContext !== undefined) {
      // RFC 9846 §4.4.2: a client without a suitable certificate "MUST send a Certificate
      // message containing no certificates".
      const empty = encodeHandshake({
        kind: 'certificate',
        certificateRequestContext: this.#certRequestContext,
        certificateList: [],
      });
      this.transcript.add(empty);
      out.push(empty);
    }
    const verifyData = finishedVerifyData(suite.hash, this.#hs!.client, this.transcript.digest());
    const finished = encodeHandshake({ kind: 'finished', verifyData });
    this.transcript.add(finished);
    out.push(finished);
    this.#resumptionMaster = this.#schedule!.resumptionMasterSecret(this.transcript.digest());
    this.send('handshake', concatBytes(...out));
    this.installKeys('application', 'write', app.client, KeylogLabel.clientApplication);
    this.installKeys('application', 'read', app.server, KeylogLabel.serverApplication);
    this.#hs = undefined;
    this.#state = 'connected';
    this.markComplete();
    this.emit({
      kind: 'complete',
      alpn: this.#negotiatedAlpn,
      peerTransportParams: this.#peerParams!,
      resumed: this.#resumed,
      suite: suite.id,
      serverName: this.#config.serverName,
    });
  }

  #onPostHandshake(msg: RawHandshake, now: number): void {
    if (msg.type === HandshakeType.certificate_request) {
      // RFC 9001 §4.4: "clients MUST treat receipt of such messages as a connection error of
      // type PROTOCOL_VIOLATION."
      throw new QuicProtocolViolation('post-handshake CertificateRequest');
    }
    if (msg.type !== HandshakeType.new_session_ticket) unexpected(msg, this.#state);
    const nst = decodeRawHandshake(msg) as NewSessionTicket;
    const early = findExtension(nst.extensions, 'early_data');
    if (early && early.maxEarlyDataSize !== QUIC_EARLY_DATA_SENTINEL) {
      // RFC 9001 §4.6.1: "A client MUST treat receipt of a NewSessionTicket that contains an
      // early_data extension with any other value as a connection error of type
      // PROTOCOL_VIOLATION."
      throw new QuicProtocolViolation(`max_early_data_size ${early.maxEarlyDataSize}`);
    }
    if (nst.ticketLifetime === 0) return; // RFC 9846 §4.6.1: zero means "discard immediately"
    const suite = this.suite!;
    this.emit({
      kind: 'ticket',
      ticket: {
        ticket: nst.ticket.slice(),
        psk: resumptionPsk(suite.hash, this.#resumptionMaster!, nst.ticketNonce),
        suite: suite.id,
        ageAdd: nst.ticketAgeAdd,
        lifetime: Math.min(nst.ticketLifetime, MAX_TICKET_LIFETIME),
        receivedAt: now,
        serverName: this.#config.serverName,
        alpn: this.#negotiatedAlpn,
        ...(early ? { maxEarlyDataSize: early.maxEarlyDataSize } : {}),
      },
    });
  }
}

/** Creates a client session; call `start(now)` to produce the ClientHello. */
export function createTlsClient(config: TlsClientConfig, random: Random): TlsClient {
  return new TlsClient(config, random);
}
