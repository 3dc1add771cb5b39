/**
 * The connection ID capsules of QUIC-aware proxying (quic-proxy §5), in the three wire profiles
 * peers run today:
 *
 *   profile    code points            Reason field   rejection                MAX_CONNECTION_IDS
 *   draft-07   0xffe600-0xffe607      no             CLOSE_* from the proxy   largest sequence number (initial 1)
 *   draft-08   0xffe700-0xffe707      yes            CLOSE_* from the proxy   cumulative count (initial 2, then >= 3)
 *   draft-09   0xffe800-0xffe809      yes            REJECT_* (0xffe805/806)  cumulative count (initial 2, then >= 3)
 *
 * (-07: our copy of the -07-era text; -08: quic-proxy-08 §5, §11.5; -09: the codepoints found in
 * an implementation pinned to -09, see ../shared/specs/draft-ietf-masque-quic-proxy-09-delta.md
 * §3, medium confidence.) Capsules decode to one semantic form whatever the profile: `kind`
 * names the capsule, `reason` is 0 (DEFAULT) where the profile has no Reason field, a proxy's
 * CLOSE_* in -07/-08 is a `reject_*`, and MAX_CONNECTION_IDS carries `limit`, the cumulative
 * number of registrations allowed (-07's Maximum Sequence Number + 1).
 *
 *   REGISTER_CLIENT_CID, CLOSE_*, REJECT_* {   REGISTER_TARGET_CID {           ACK_CLIENT_CID {
 *     [Reason (i)],                              [Reason (i)],                    CID Length (i), CID,
 *     Connection ID (rest of the value),         CID Length (i), CID,            VCID Length (i), VCID,
 *   }                                            SRT Length (i), SRT,          }
 *                                              }
 *   ACK_TARGET_CID, ACK_CLIENT_VCID {          MAX_CONNECTION_IDS {
 *     CID Length (i), CID, VCID Length (i),      Maximum Connection IDs (i)    (-07: Maximum Sequence Number)
 *     VCID, SRT Length (i), SRT,               }
 *   }
 *
 * Connection IDs are 0 to 255 bytes (QUIC invariants, RFC 8999 §5.1); `v1: true` enforces
 * QUIC v1's 20 and 16-byte (or empty) Stateless Reset Tokens.
 */
import { CapsuleError, withCapsuleErrors } from '../../capsule/errors.js';
import { ByteReader } from '../../wire/reader.js';
import { ByteWriter } from '../../wire/writer.js';

/** A wire profile of quic-proxy. */
export type QuicProxyProfile = 'draft-07' | 'draft-08' | 'draft-09';
export const QUIC_PROXY_PROFILES: readonly QuicProxyProfile[] = [
  'draft-09',
  'draft-08',
  'draft-07',
];

/** The capsules, by meaning. */
export type QuicProxyKind =
  | 'register_client_cid'
  | 'register_target_cid'
  | 'ack_client_cid'
  | 'ack_client_vcid'
  | 'ack_target_cid'
  | 'reject_client_cid'
  | 'reject_target_cid'
  | 'close_client_cid'
  | 'close_target_cid'
  | 'max_connection_ids';

/** CID Capsule Reason Codes (quic-proxy-08 §11.4). */
export const CidReason = { DEFAULT: 0, TOO_SHORT: 1, CONFLICT: 2 } as const;

const KIND_ORDER_07: readonly QuicProxyKind[] = [
  'register_client_cid',
  'register_target_cid',
  'ack_client_cid',
  'ack_client_vcid',
  'ack_target_cid',
  'close_client_cid',
  'close_target_cid',
  'max_connection_ids',
];
const KIND_ORDER_09: readonly QuicProxyKind[] = [
  'register_client_cid',
  'register_target_cid',
  'ack_client_cid',
  'ack_client_vcid',
  'ack_target_cid',
  'reject_client_cid',
  'reject_target_cid',
  'close_client_cid',
  'close_target_cid',
  'max_connection_ids',
];

function table(base: number, order: readonly QuicProxyKind[]): ReadonlyMap<QuicProxyKind, number> {
  return new Map(order.map((k, i) => [k, base + i]));
}

/** Code point of each kind that has one in the profile (-07/-08 have no REJECT_* types). */
export const QUIC_PROXY_CODEPOINTS: Readonly<
  Record<QuicProxyProfile, ReadonlyMap<QuicProxyKind, number>>
> = {
  'draft-07': table(0xffe600, KIND_ORDER_07),
  'draft-08': table(0xffe700, KIND_ORDER_07),
  'draft-09': table(0xffe800, KIND_ORDER_09),
};

const KIND_OF: Readonly<Record<QuicProxyProfile, ReadonlyMap<number, QuicProxyKind>>> = {
  'draft-07': invert(QUIC_PROXY_CODEPOINTS['draft-07']),
  'draft-08': invert(QUIC_PROXY_CODEPOINTS['draft-08']),
  'draft-09': invert(QUIC_PROXY_CODEPOINTS['draft-09']),
};

function invert(m: ReadonlyMap<QuicProxyKind, number>): ReadonlyMap<number, QuicProxyKind> {
  return new Map([...m].map(([k, v]) => [v, k]));
}

/** Who may send each kind (quic-proxy §5). */
export const QUIC_PROXY_SENDER: Readonly<Record<QuicProxyKind, 'client' | 'proxy'>> = {
  register_client_cid: 'client',
  register_target_cid: 'client',
  ack_client_cid: 'proxy',
  ack_client_vcid: 'client',
  ack_target_cid: 'proxy',
  reject_client_cid: 'proxy',
  reject_target_cid: 'proxy',
  close_client_cid: 'client',
  close_target_cid: 'client',
  max_connection_ids: 'proxy',
};

/** Registrations allowed before any MAX_CONNECTION_IDS (quic-proxy-08 §5: "The initial maximum is 2"). */
export const INITIAL_CONNECTION_ID_LIMIT = 2;
/** Connection ID length limit of the QUIC invariants (RFC 8999 §5.1). */
export const MAX_CID_LENGTH = 255;
/** Connection ID length limit of QUIC version 1 (RFC 9000 §17.2). */
export const MAX_CID_LENGTH_V1 = 20;
/** Stateless Reset Token length of QUIC version 1 (RFC 9000 §10.3). */
export const STATELESS_RESET_TOKEN_LENGTH_V1 = 16;
/** This codec's bound on a Stateless Reset Token Length (the draft sets none). */
export const MAX_STATELESS_RESET_TOKEN_LENGTH = 255;

export type QuicProxyCapsule =
  | { readonly kind: 'register_client_cid'; readonly reason: number; readonly cid: Uint8Array }
  | {
      readonly kind: 'register_target_cid';
      readonly reason: number;
      readonly cid: Uint8Array;
      /** The target's Stateless Reset Token for `cid` (may be empty). */
      readonly token: Uint8Array;
    }
  | { readonly kind: 'ack_client_cid'; readonly cid: Uint8Array; readonly vcid: Uint8Array }
  | {
      readonly kind: 'ack_client_vcid' | 'ack_target_cid';
      readonly cid: Uint8Array;
      readonly vcid: Uint8Array;
      readonly token: Uint8Array;
    }
  | {
      readonly kind:
        | 'reject_client_cid'
        | 'reject_target_cid'
        | 'close_client_cid'
        | 'close_target_cid';
      readonly reason: number;
      readonly cid: Uint8Array;
    }
  | {
      readonly kind: 'max_connection_ids';
      /** Cumulative registrations allowed (values above 2^53 - 1 read as 2^53 - 1). */
      readonly limit: number;
    };

export interface QuicProxyCodecOptions {
  /** Enforce QUIC v1 limits: CIDs and VCIDs up to 20 bytes, tokens of 0 or 16 bytes. */
  readonly v1?: boolean;
  /**
   * Whether forwarded mode was negotiated. `false`: VCIDs and ACK_TARGET_CID tokens must be
   * empty and ACK_CLIENT_VCID is refused. `true`: a client VCID is at least as long as its CID.
   */
  readonly forwarding?: boolean;
}

const V = 2; // a length varint of at most 255 takes at most 2 bytes
const CID = MAX_CID_LENGTH;
const SRT = MAX_STATELESS_RESET_TOKEN_LENGTH;

/** Largest Capsule Length of each code point of `profile`, for the capsule parser's `known`. */
export function quicProxyCapsuleLimits(profile: QuicProxyProfile): Array<[number, number]> {
  const max: Record<QuicProxyKind, number> = {
    register_client_cid: 8 + CID,
    register_target_cid: 8 + V + CID + V + SRT,
    ack_client_cid: V + CID + V + CID,
    ack_client_vcid: V + CID + V + CID + V + SRT,
    ack_target_cid: V + CID + V + CID + V + SRT,
    reject_client_cid: 8 + CID,
    reject_target_cid: 8 + CID,
    close_client_cid: 8 + CID,
    close_target_cid: 8 + CID,
    max_connection_ids: 8,
  };
  return [...QUIC_PROXY_CODEPOINTS[profile]].map(([kind, type]) => [type, max[kind]]);
}

/** The kind a capsule type has in `profile`, or undefined when it is none of its types. */
export function quicProxyKindOf(
  type: number,
  profile: QuicProxyProfile,
): QuicProxyKind | undefined {
  return KIND_OF[profile].get(type);
}

/** The profile a code point belongs to (the blocks do not overlap), or undefined. */
export function quicProxyProfileOf(type: number): QuicProxyProfile | undefined {
  for (const p of QUIC_PROXY_PROFILES) if (KIND_OF[p].has(type)) return p;
  return undefined;
}

/**
 * Encodes a capsule for `profile` as (type, value). In -07/-08 a `reject_*` goes out as the
 * proxy's CLOSE_*; -07 has no Reason field, so a reason is not sent (a -07 rejection says no
 * why).
 */
export function encodeQuicProxyCapsule(
  c: QuicProxyCapsule,
  profile: QuicProxyProfile,
  options: QuicProxyCodecOptions = {},
): [type: number, value: Uint8Array] {
  validate(c, options);
  if (c.kind === 'max_connection_ids' && c.limit < minimumLimit(profile)) {
    throw new CapsuleError(`MAX_CONNECTION_IDS: ${c.limit} is below ${profile}'s minimum`);
  }
  const hasReason = profile !== 'draft-07';
  let kind = c.kind;
  if (profile !== 'draft-09' && (kind === 'reject_client_cid' || kind === 'reject_target_cid')) {
    kind = kind === 'reject_client_cid' ? 'close_client_cid' : 'close_target_cid';
  }
  const type = QUIC_PROXY_CODEPOINTS[profile].get(kind) as number;
  const value = withCapsuleErrors(c.kind, () => {
    const w = new ByteWriter(64);
    switch (c.kind) {
      case 'register_client_cid':
      case 'reject_client_cid':
      case 'reject_target_cid':
      case 'close_client_cid':
      case 'close_target_cid':
        if (hasReason) w.varint(c.reason);
        w.bytes(c.cid);
        break;
      case 'register_target_cid':
        if (hasReason) w.varint(c.reason);
        w.vecVarint(c.cid).vecVarint(c.token);
        break;
      case 'ack_client_cid':
        w.vecVarint(c.cid).vecVarint(c.vcid);
        break;
      case 'ack_client_vcid':
      case 'ack_target_cid':
        w.vecVarint(c.cid).vecVarint(c.vcid).vecVarint(c.token);
        break;
      case 'max_connection_ids':
        w.varint(profile === 'draft-07' ? c.limit - 1 : c.limit);
        break;
    }
    return w.toBytes();
  });
  return [type, value];
}

/**
 * Decodes a capsule of `profile` received by `receiver`. Throws CapsuleError (a stream error,
 * H3_DATAGRAM_ERROR, RFC 9297 §3.3) on truncated or trailing bytes, lengths above the limits, a
 * capsule the sender may not send, and the field rules the options make checkable. Returns
 * undefined for a type that is not one of the profile's.
 */
export function decodeQuicProxyCapsule(
  type: number,
  value: Uint8Array,
  profile: QuicProxyProfile,
  receiver: 'client' | 'proxy',
  options: QuicProxyCodecOptions = {},
): QuicProxyCapsule | undefined {
  let kind = KIND_OF[profile].get(type);
  if (kind === undefined) return undefined;
  // -07/-08: a CLOSE from the proxy is a rejection (quic-proxy-08 §5 "Proxies send CLOSE_CLIENT_CID
  // or CLOSE_TARGET_CID capsules only to reject registrations").
  if (profile !== 'draft-09' && receiver === 'client') {
    if (kind === 'close_client_cid') kind = 'reject_client_cid';
    else if (kind === 'close_target_cid') kind = 'reject_target_cid';
  }
  const sender = receiver === 'client' ? 'proxy' : 'client';
  if (QUIC_PROXY_SENDER[kind] !== sender) {
    // quic-proxy §5: each type "MUST only be sent by" one side (-09: REJECT_* proxy-only, CLOSE_*
    // client-only).
    throw new CapsuleError(`${kind} may not be sent by the ${sender}`);
  }
  const hasReason = profile !== 'draft-07';
  const k = kind;
  const c = withCapsuleErrors(kind, (): QuicProxyCapsule => {
    const r = new ByteReader(value);
    switch (k) {
      case 'register_client_cid':
      case 'reject_client_cid':
      case 'reject_target_cid':
      case 'close_client_cid':
      case 'close_target_cid': {
        const reason = hasReason ? r.varintClamped() : CidReason.DEFAULT;
        // The Connection ID is the rest of the value: its length is implied.
        return { kind: k, reason, cid: r.rest() };
      }
      case 'register_target_cid': {
        const reason = hasReason ? r.varintClamped() : CidReason.DEFAULT;
        const cid = r.vecVarint(CID);
        const token = r.vecVarint(SRT);
        r.expectEnd(k);
        return { kind: k, reason, cid, token };
      }
      case 'ack_client_cid': {
        const cid = r.vecVarint(CID);
        const vcid = r.vecVarint(CID);
        r.expectEnd(k);
        return { kind: k, cid, vcid };
      }
      case 'ack_client_vcid':
      case 'ack_target_cid': {
        const cid = r.vecVarint(CID);
        const vcid = r.vecVarint(CID);
        const token = r.vecVarint(SRT);
        r.expectEnd(k);
        return { kind: k, cid, vcid, token };
      }
      case 'max_connection_ids': {
        const n = r.varintClamped();
        r.expectEnd(k);
        const limit = profile === 'draft-07' ? Math.min(n + 1, Number.MAX_SAFE_INTEGER) : n;
        // -08 §5.7: "any value sent in the capsule MUST be at least 3"; -07: a Maximum Sequence
        // Number "less than 1". Both: "MUST reset the stream with H3_DATAGRAM_ERROR".
        if (limit < minimumLimit(profile)) {
          throw new CapsuleError(`MAX_CONNECTION_IDS: ${n} is below the profile's minimum`);
        }
        return { kind: k, limit };
      }
    }
  });
  validate(c, options);
  return c;
}

function validate(c: QuicProxyCapsule, options: QuicProxyCodecOptions): void {
  if (c.kind === 'max_connection_ids') {
    if (!Number.isSafeInteger(c.limit) || c.limit < INITIAL_CONNECTION_ID_LIMIT) {
      throw new CapsuleError(`MAX_CONNECTION_IDS: ${c.limit} is below the initial 2`);
    }
    return;
  }
  const cidMax = options.v1 ? MAX_CID_LENGTH_V1 : MAX_CID_LENGTH;
  checkLength(c.kind, 'Connection ID', c.cid, cidMax);
  if ('reason' in c && (!Number.isSafeInteger(c.reason) || c.reason < 0)) {
    throw new CapsuleError(`${c.kind}: Reason ${c.reason} is not a varint`, 'VARINT_RANGE');
  }
  if ('vcid' in c) {
    checkLength(c.kind, 'Virtual Connection ID', c.vcid, cidMax);
    // §5.3/§5.4: "When forwarded mode is not negotiated, the length MUST be zero."
    if (options.forwarding === false && c.vcid.length !== 0) {
      throw new CapsuleError(`${c.kind}: a Virtual Connection ID without forwarded mode`);
    }
    // §5.3: "The client VCID Length MUST be at least as large as the Connection ID".
    if (
      options.forwarding === true &&
      c.kind === 'ack_client_cid' &&
      c.vcid.length < c.cid.length
    ) {
      throw new CapsuleError(`${c.kind}: client VCID shorter than the client CID`);
    }
  }
  if ('token' in c) {
    checkLength(c.kind, 'Stateless Reset Token', c.token, MAX_STATELESS_RESET_TOKEN_LENGTH);
    if (options.v1 && c.token.length !== 0 && c.token.length !== STATELESS_RESET_TOKEN_LENGTH_V1) {
      throw new CapsuleError(`${c.kind}: a QUIC v1 Stateless Reset Token has 16 bytes`);
    }
    if (options.forwarding === false && c.kind === 'ack_target_cid' && c.token.length !== 0) {
      throw new CapsuleError(`${c.kind}: a Stateless Reset Token without forwarded mode`);
    }
  }
  // §5.9.1: "If forwarded mode is not supported, an ACK_CLIENT_VCID capsule MUST NOT be sent."
  if (options.forwarding === false && c.kind === 'ack_client_vcid') {
    throw new CapsuleError(`${c.kind} without forwarded mode`);
  }
}

/** Smallest MAX_CONNECTION_IDS `limit` a profile may carry: -07 "less than 1" (+1), -08 "at least 3". */
function minimumLimit(profile: QuicProxyProfile): number {
  return profile === 'draft-07' ? 2 : 3;
}

function checkLength(what: string, field: string, bytes: Uint8Array, max: number): void {
  if (bytes.length > max) {
    throw new CapsuleError(
      `${what}: ${field} of ${bytes.length} bytes exceeds ${max}`,
      'TOO_LARGE',
    );
  }
}
