/**
 * The connection ID capsules of QUIC-aware proxying (quic-proxy §5, types 0xffe600-0xffe607,
 * provisional code points per quic-proxy §11.4).
 *
 *   REGISTER_CLIENT_CID, CLOSE_CLIENT_CID,   REGISTER_TARGET_CID {
 *   CLOSE_TARGET_CID {                         Connection ID Length (i),
 *     Connection ID (0..2040),                 Connection ID (0..2040),
 *   }  (length implied by the capsule)         Stateless Reset Token Length (i),
 *                                              Stateless Reset Token (..),
 *   ACK_CLIENT_CID {                         }
 *     Connection ID Length (i),
 *     Connection ID (0..2040),               ACK_TARGET_CID, ACK_CLIENT_VCID {
 *     Virtual Connection ID Length (i),        Connection ID Length (i),
 *     Virtual Connection ID (0..2040),         Connection ID (0..2040),
 *   }                                          Virtual Connection ID Length (i),
 *                                              Virtual Connection ID (0..2040),
 *   MAX_CONNECTION_IDS {                       Stateless Reset Token Length (i),
 *     Maximum Sequence Number (i),             Stateless Reset Token (..),
 *   }                                        }
 *
 * Connection IDs are 0 to 255 bytes (QUIC invariants; 20 in QUIC v1, enforced with `v1: true`).
 * The draft gives no bound for a Stateless Reset Token Length; this codec caps it at 255 bytes
 * (QUIC v1 tokens are 16 bytes, and zero means "no token").
 */
import { encodeCapsule } from '../../capsule/capsules.js';
import { CapsuleError, withCapsuleErrors } from '../../capsule/errors.js';
import { ByteReader } from '../../wire/reader.js';
import { ByteWriter } from '../../wire/writer.js';

export const QuicProxyCapsuleType = {
  REGISTER_CLIENT_CID: 0xffe600,
  REGISTER_TARGET_CID: 0xffe601,
  ACK_CLIENT_CID: 0xffe602,
  ACK_CLIENT_VCID: 0xffe603,
  ACK_TARGET_CID: 0xffe604,
  CLOSE_CLIENT_CID: 0xffe605,
  CLOSE_TARGET_CID: 0xffe606,
  MAX_CONNECTION_IDS: 0xffe607,
} as const;

type T = typeof QuicProxyCapsuleType;

/** Connection ID length limit of the QUIC invariants (RFC 8999 §5.1). */
export const MAX_CID_LENGTH = 255;
/** Connection ID length limit of QUIC version 1 (RFC 9000 §17.2). */
export const MAX_CID_LENGTH_V1 = 20;
/** Stateless Reset Token length of QUIC version 1 (RFC 9000 §10.3). */
export const STATELESS_RESET_TOKEN_LENGTH_V1 = 16;
/** This codec's own bound on a Stateless Reset Token Length (the draft sets none). */
export const MAX_STATELESS_RESET_TOKEN_LENGTH = 255;
/** quic-proxy §5: "The initial maximum is 1". */
export const INITIAL_MAX_CONNECTION_ID_SEQUENCE = 1;

const V = 2; // a length varint of at most 255 takes at most 2 bytes
const CID = MAX_CID_LENGTH;
const SRT = MAX_STATELESS_RESET_TOKEN_LENGTH;

/** Largest Capsule Length of each type, for `CapsuleParser`'s `known` option. */
export const QUIC_PROXY_CAPSULE_LIMITS: ReadonlyMap<number, number> = new Map([
  [QuicProxyCapsuleType.REGISTER_CLIENT_CID, CID],
  [QuicProxyCapsuleType.REGISTER_TARGET_CID, V + CID + V + SRT],
  [QuicProxyCapsuleType.ACK_CLIENT_CID, V + CID + V + CID],
  [QuicProxyCapsuleType.ACK_CLIENT_VCID, V + CID + V + CID + V + SRT],
  [QuicProxyCapsuleType.ACK_TARGET_CID, V + CID + V + CID + V + SRT],
  [QuicProxyCapsuleType.CLOSE_CLIENT_CID, CID],
  [QuicProxyCapsuleType.CLOSE_TARGET_CID, CID],
  [QuicProxyCapsuleType.MAX_CONNECTION_IDS, 8],
]);

/** REGISTER_CLIENT_CID (quic-proxy §5.1), sent by the client. */
export interface RegisterClientCid {
  readonly type: T['REGISTER_CLIENT_CID'];
  /** The client-chosen CID on the client-to-target connection. */
  readonly connectionId: Uint8Array;
}

/** REGISTER_TARGET_CID (quic-proxy §5.2), sent by the client. */
export interface RegisterTargetCid {
  readonly type: T['REGISTER_TARGET_CID'];
  /** The target-chosen CID on the client-to-target connection. */
  readonly connectionId: Uint8Array;
  /** The target's Stateless Reset Token for that CID (possibly empty). */
  readonly statelessResetToken: Uint8Array;
}

/** ACK_CLIENT_CID (quic-proxy §5.3), sent by the proxy. */
export interface AckClientCid {
  readonly type: T['ACK_CLIENT_CID'];
  /** The client CID being acknowledged. */
  readonly connectionId: Uint8Array;
  /** The client VCID the proxy will send with in forwarded mode; empty without forwarding. */
  readonly virtualConnectionId: Uint8Array;
}

/** ACK_CLIENT_VCID (quic-proxy §5.5), sent by the client in forwarded mode. */
export interface AckClientVcid {
  readonly type: T['ACK_CLIENT_VCID'];
  /** The real client CID. */
  readonly connectionId: Uint8Array;
  /** The proxy-chosen client VCID being acknowledged. */
  readonly virtualConnectionId: Uint8Array;
  /** Token the client may answer forwarded packets with; empty means none (to be ignored). */
  readonly statelessResetToken: Uint8Array;
}

/** ACK_TARGET_CID (quic-proxy §5.4), sent by the proxy. */
export interface AckTargetCid {
  readonly type: T['ACK_TARGET_CID'];
  /** The target CID being acknowledged. */
  readonly connectionId: Uint8Array;
  /** The target VCID the client sends with in forwarded mode; empty without forwarding. */
  readonly virtualConnectionId: Uint8Array;
  /** The proxy's Stateless Reset Token for forwarded packets; empty means none. */
  readonly statelessResetToken: Uint8Array;
}

/** CLOSE_CLIENT_CID or CLOSE_TARGET_CID (quic-proxy §5.6), sent by either side. */
export interface CloseCid {
  readonly type: T['CLOSE_CLIENT_CID'] | T['CLOSE_TARGET_CID'];
  /** The CID whose mapping is removed (or whose registration is rejected). */
  readonly connectionId: Uint8Array;
}

/** MAX_CONNECTION_IDS (quic-proxy §5.7), sent by the proxy. */
export interface MaxConnectionIds {
  readonly type: T['MAX_CONNECTION_IDS'];
  /**
   * Largest permitted registration sequence number; at least 1. Values above 2^53 - 1 are
   * reported as 2^53 - 1 ("unlimited").
   */
  readonly maximumSequenceNumber: number;
}

export type QuicProxyCapsule =
  | RegisterClientCid
  | RegisterTargetCid
  | AckClientCid
  | AckClientVcid
  | AckTargetCid
  | CloseCid
  | MaxConnectionIds;

export interface QuicProxyCodecOptions {
  /** Enforce QUIC v1 limits: CIDs and VCIDs up to 20 bytes, tokens of 0 or 16 bytes. */
  v1?: boolean;
  /**
   * Whether forwarded mode was negotiated. `false`: VCIDs and ACK_TARGET_CID tokens must be
   * empty and ACK_CLIENT_VCID is refused. `true`: a client VCID is at least as long as its CID.
   */
  forwarding?: boolean;
}

/** Which side may send each capsule type (quic-proxy §5). */
export const QUIC_PROXY_CAPSULE_SENDER: Readonly<Record<number, 'client' | 'proxy' | 'either'>> = {
  [QuicProxyCapsuleType.REGISTER_CLIENT_CID]: 'client',
  [QuicProxyCapsuleType.REGISTER_TARGET_CID]: 'client',
  [QuicProxyCapsuleType.ACK_CLIENT_CID]: 'proxy',
  [QuicProxyCapsuleType.ACK_CLIENT_VCID]: 'client',
  [QuicProxyCapsuleType.ACK_TARGET_CID]: 'proxy',
  [QuicProxyCapsuleType.CLOSE_CLIENT_CID]: 'either',
  [QuicProxyCapsuleType.CLOSE_TARGET_CID]: 'either',
  [QuicProxyCapsuleType.MAX_CONNECTION_IDS]: 'proxy',
};

const NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(QuicProxyCapsuleType).map(([k, v]) => [v, k]),
);

/** True for the eight quic-proxy capsule types. */
export function isQuicProxyCapsuleType(type: number): boolean {
  return type in NAMES;
}

/** The Capsule Value of a quic-proxy capsule. Throws CapsuleError on an invalid field. */
export function encodeQuicProxyValue(
  c: QuicProxyCapsule,
  options: QuicProxyCodecOptions = {},
): Uint8Array {
  validate(c, options);
  return withCapsuleErrors(NAMES[c.type] ?? 'quic-proxy capsule', () => {
    const w = new ByteWriter(64);
    switch (c.type) {
      case QuicProxyCapsuleType.REGISTER_CLIENT_CID:
      case QuicProxyCapsuleType.CLOSE_CLIENT_CID:
      case QuicProxyCapsuleType.CLOSE_TARGET_CID:
        w.bytes(c.connectionId);
        break;
      case QuicProxyCapsuleType.REGISTER_TARGET_CID:
        w.vecVarint(c.connectionId).vecVarint(c.statelessResetToken);
        break;
      case QuicProxyCapsuleType.ACK_CLIENT_CID:
        w.vecVarint(c.connectionId).vecVarint(c.virtualConnectionId);
        break;
      case QuicProxyCapsuleType.ACK_CLIENT_VCID:
      case QuicProxyCapsuleType.ACK_TARGET_CID:
        w.vecVarint(c.connectionId)
          .vecVarint(c.virtualConnectionId)
          .vecVarint(c.statelessResetToken);
        break;
      case QuicProxyCapsuleType.MAX_CONNECTION_IDS:
        w.varint(c.maximumSequenceNumber);
        break;
    }
    return w.toBytes();
  });
}

/** A whole quic-proxy capsule (type, length, value). */
export function encodeQuicProxyCapsule(
  c: QuicProxyCapsule,
  options: QuicProxyCodecOptions = {},
): Uint8Array {
  return encodeCapsule(c.type, encodeQuicProxyValue(c, options));
}

/**
 * Decodes the value of one of the eight quic-proxy capsule types. Throws CapsuleError on truncated
 * fields and trailing bytes (RFC 9297 §3.3), on lengths above the limits, and on the field rules
 * of quic-proxy §5 that the options make checkable.
 */
export function decodeQuicProxyCapsule(
  type: number,
  value: Uint8Array,
  options: QuicProxyCodecOptions = {},
): QuicProxyCapsule {
  const what = NAMES[type];
  if (what === undefined) {
    throw new CapsuleError(`capsule type 0x${type.toString(16)} is not a quic-proxy capsule`);
  }
  const c = withCapsuleErrors(what, (): QuicProxyCapsule => {
    const r = new ByteReader(value);
    switch (type) {
      case QuicProxyCapsuleType.REGISTER_CLIENT_CID:
      case QuicProxyCapsuleType.CLOSE_CLIENT_CID:
      case QuicProxyCapsuleType.CLOSE_TARGET_CID:
        // The Connection ID is the whole value: its length is the Capsule Length.
        return { type, connectionId: r.rest() };
      case QuicProxyCapsuleType.REGISTER_TARGET_CID: {
        const connectionId = r.vecVarint(CID);
        const statelessResetToken = r.vecVarint(SRT);
        r.expectEnd(what);
        return { type, connectionId, statelessResetToken };
      }
      case QuicProxyCapsuleType.ACK_CLIENT_CID: {
        const connectionId = r.vecVarint(CID);
        const virtualConnectionId = r.vecVarint(CID);
        r.expectEnd(what);
        return { type, connectionId, virtualConnectionId };
      }
      case QuicProxyCapsuleType.ACK_CLIENT_VCID:
      case QuicProxyCapsuleType.ACK_TARGET_CID: {
        const connectionId = r.vecVarint(CID);
        const virtualConnectionId = r.vecVarint(CID);
        const statelessResetToken = r.vecVarint(SRT);
        r.expectEnd(what);
        return { type, connectionId, virtualConnectionId, statelessResetToken };
      }
      default: {
        // A limit: anything beyond 2^53 - 1 means "unlimited" (varint number policy).
        const maximumSequenceNumber = r.varintClamped();
        r.expectEnd(what);
        return { type: QuicProxyCapsuleType.MAX_CONNECTION_IDS, maximumSequenceNumber };
      }
    }
  });
  validate(c, options);
  return c;
}

function validate(c: QuicProxyCapsule, options: QuicProxyCodecOptions): void {
  const what = NAMES[c.type];
  if (what === undefined) throw new CapsuleError(`unknown quic-proxy capsule type ${c.type}`);
  if (c.type === QuicProxyCapsuleType.MAX_CONNECTION_IDS) {
    // quic-proxy §5: "Clients receiving a MAX_CONNECTION_IDS capsule with a value less than 1
    // MUST reset the stream with H3_DATAGRAM_ERROR error code."
    const n = c.maximumSequenceNumber;
    if (!Number.isSafeInteger(n) || n < INITIAL_MAX_CONNECTION_ID_SEQUENCE) {
      throw new CapsuleError(`${what}: Maximum Sequence Number ${n} is less than 1`);
    }
    return;
  }
  const cidMax = options.v1 ? MAX_CID_LENGTH_V1 : MAX_CID_LENGTH;
  checkLength(what, 'Connection ID', c.connectionId, cidMax);
  if ('virtualConnectionId' in c) {
    const vcid = c.virtualConnectionId;
    checkLength(what, 'Virtual Connection ID', vcid, cidMax);
    // quic-proxy §5.3/§5.4: "When forwarded mode is not negotiated, the length MUST be zero."
    if (options.forwarding === false && vcid.length !== 0) {
      throw new CapsuleError(`${what}: a Virtual Connection ID without forwarded mode`);
    }
    // quic-proxy §5.3: "The client VCID Length MUST be at least as large as the Connection ID".
    if (
      options.forwarding === true &&
      c.type === QuicProxyCapsuleType.ACK_CLIENT_CID &&
      vcid.length < c.connectionId.length
    ) {
      throw new CapsuleError(`${what}: client VCID shorter than the client CID`);
    }
  }
  if ('statelessResetToken' in c) {
    const srt = c.statelessResetToken;
    checkLength(what, 'Stateless Reset Token', srt, MAX_STATELESS_RESET_TOKEN_LENGTH);
    if (options.v1 && srt.length !== 0 && srt.length !== STATELESS_RESET_TOKEN_LENGTH_V1) {
      throw new CapsuleError(`${what}: a QUIC v1 Stateless Reset Token has 16 bytes`);
    }
    // quic-proxy §5.4: token length "When forwarded mode is not negotiated, the length MUST be
    // zero."
    if (
      options.forwarding === false &&
      c.type === QuicProxyCapsuleType.ACK_TARGET_CID &&
      srt.length !== 0
    ) {
      throw new CapsuleError(`${what}: a Stateless Reset Token without forwarded mode`);
    }
  }
  // quic-proxy §5.9.1: "If forwarded mode is not supported, an ACK_CLIENT_VCID capsule MUST NOT be
  // sent."
  if (options.forwarding === false && c.type === QuicProxyCapsuleType.ACK_CLIENT_VCID) {
    throw new CapsuleError(`${what} without forwarded mode`);
  }
}

function checkLength(what: string, field: string, bytes: Uint8Array, max: number): void {
  if (bytes.length > max) {
    throw new CapsuleError(
      `${what}: ${field} of ${bytes.length} bytes exceeds ${max}`,
      'TOO_LARGE',
    );
  }
}
