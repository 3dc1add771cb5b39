/**
 * HTTP/3 frame types (RFC 9114 §7.2, §11.2.1) and where each may appear (§7.2, Table 1). The
 * table is static knowledge; the session adds state (first frame of the control stream, message
 * sequence on request streams) on top, or lets {@link checkFrameAllowed} do the static part.
 */
import { H3Error, H3ErrorCode } from './errors.js';
import { isReservedCodePoint, reservedCodePoint } from './grease.js';

/** Registered frame types. */
export const H3FrameType = {
  DATA: 0x00,
  HEADERS: 0x01,
  CANCEL_PUSH: 0x03,
  SETTINGS: 0x04,
  PUSH_PROMISE: 0x05,
  GOAWAY: 0x07,
  MAX_PUSH_ID: 0x0d,
} as const;

export type H3FrameTypeName = keyof typeof H3FrameType;
export type H3FrameTypeValue = (typeof H3FrameType)[H3FrameTypeName];

/**
 * HTTP/2 frame types with no HTTP/3 counterpart: PRIORITY 0x02, PING 0x06, WINDOW_UPDATE 0x08,
 * CONTINUATION 0x09 (RFC 9114 §7.2.8, §11.2.1).
 */
export const HTTP2_ONLY_FRAME_TYPES: readonly number[] = [0x02, 0x06, 0x08, 0x09];

/** The kinds of stream that carry HTTP/3 frames (RFC 9114 §7). */
export type H3FrameStreamKind = 'control' | 'request' | 'push';

/** Which endpoint may send a frame type. */
export type H3FrameSender = 'client' | 'server' | 'both';

/** One row of RFC 9114 §7.2 Table 1, plus the sender restrictions of §7.2.5 and §7.2.7. */
export interface H3FrameRule {
  /** Allowed on the control stream. */
  readonly control: boolean;
  /** Allowed on a request stream. */
  readonly request: boolean;
  /** Allowed on a push stream. */
  readonly push: boolean;
  /** Who may send it. */
  readonly sender: H3FrameSender;
}

/** RFC 9114 §7.2, Table 1 ("HTTP/3 Frames and Stream Type Overview"). */
export const FRAME_RULES: Readonly<Record<H3FrameTypeValue, H3FrameRule>> = {
  [H3FrameType.DATA]: { control: false, request: true, push: true, sender: 'both' },
  [H3FrameType.HEADERS]: { control: false, request: true, push: true, sender: 'both' },
  [H3FrameType.CANCEL_PUSH]: { control: true, request: false, push: false, sender: 'both' },
  // Control stream only, and only as its first frame (§7.2.4): the "(1)" of the table.
  [H3FrameType.SETTINGS]: { control: true, request: false, push: false, sender: 'both' },
  // §7.2.5: "A client MUST NOT send a PUSH_PROMISE frame."
  [H3FrameType.PUSH_PROMISE]: { control: false, request: true, push: false, sender: 'server' },
  [H3FrameType.GOAWAY]: { control: true, request: false, push: false, sender: 'both' },
  // §7.2.7: "A server MUST NOT send a MAX_PUSH_ID frame."
  [H3FrameType.MAX_PUSH_ID]: { control: true, request: false, push: false, sender: 'client' },
};

const NAMES = new Map<number, H3FrameTypeName>(
  (Object.entries(H3FrameType) as Array<[H3FrameTypeName, number]>).map(([k, v]) => [v, k]),
);

/** True for a type registered by RFC 9114 (and understood by this layer). */
export function isKnownFrameType(type: number): type is H3FrameTypeValue {
  return NAMES.has(type);
}

/** True for the HTTP/2-only types that MUST be treated as H3_FRAME_UNEXPECTED (§7.2.8). */
export function isHttp2OnlyFrameType(type: number | bigint): boolean {
  const t = typeof type === 'bigint' ? (type <= 9n ? Number(type) : -1) : type;
  return t === 0x02 || t === 0x06 || t === 0x08 || t === 0x09;
}

/** True for reserved frame types `0x1f * N + 0x21` (§7.2.8), which MUST carry no meaning. */
export function isReservedFrameType(type: number | bigint): boolean {
  return isReservedCodePoint(type);
}

/** A reserved frame type for `N` from the caller's randomness (§7.2.8), e.g. for padding. */
export function reservedFrameType(n: number | bigint): bigint {
  return reservedCodePoint(n);
}

/** The registered name, `HTTP2(0x..)`, `RESERVED(0x..)`, or the hex value of a frame type. */
export function frameTypeName(type: number | bigint): string {
  const name = typeof type === 'number' ? NAMES.get(type) : undefined;
  if (name !== undefined) return name;
  const hex = `0x${type.toString(16)}`;
  if (isHttp2OnlyFrameType(type)) return `HTTP2(${hex})`;
  return isReservedFrameType(type) ? `RESERVED(${hex})` : hex;
}

/** What {@link checkFrameAllowed} needs to know about the stream and the frame's position. */
export interface FrameContext {
  /** The kind of stream the frame arrived on. */
  readonly stream: H3FrameStreamKind;
  /** The role of the endpoint that sent the frame, when known (enables the sender checks). */
  readonly sender?: 'client' | 'server';
  /** True for the first frame on the stream (the control stream must start with SETTINGS). */
  readonly first: boolean;
}

/**
 * Applies the static placement rules to a frame header, throwing the code the RFC names:
 * - HTTP/2-only types anywhere: H3_FRAME_UNEXPECTED (§7.2.8);
 * - a first control-stream frame other than SETTINGS: H3_MISSING_SETTINGS (§6.2.1, which also
 *   covers unknown types: §9 "an unknown frame type does not satisfy that requirement");
 * - SETTINGS not first on the control stream: H3_FRAME_UNEXPECTED (§7.2.4);
 * - a known frame on a stream kind Table 1 excludes, or from the wrong sender:
 *   H3_FRAME_UNEXPECTED (§7.2.1-§7.2.7).
 * Unknown and reserved types are allowed everywhere else (§9: "MUST ignore unknown").
 * Message sequencing on request streams (§4.1) is the session's job.
 */
export function checkFrameAllowed(type: number, ctx: FrameContext): void {
  if (isHttp2OnlyFrameType(type)) {
    throw unexpected(`HTTP/2 frame type ${frameTypeName(type)} is reserved in HTTP/3`);
  }
  if (ctx.stream === 'control') {
    if (ctx.first && type !== H3FrameType.SETTINGS) {
      throw new H3Error(
        H3ErrorCode.H3_MISSING_SETTINGS,
        `control stream starts with ${frameTypeName(type)} instead of SETTINGS`,
      );
    }
    if (!ctx.first && type === H3FrameType.SETTINGS) {
      throw unexpected('second SETTINGS frame on the control stream');
    }
  }
  if (!isKnownFrameType(type)) return;
  const rule = FRAME_RULES[type];
  if (!rule[ctx.stream]) {
    throw unexpected(`${frameTypeName(type)} frame on a ${ctx.stream} stream`);
  }
  if (ctx.sender !== undefined && rule.sender !== 'both' && rule.sender !== ctx.sender) {
    throw unexpected(`${frameTypeName(type)} frame sent by a ${ctx.sender}`);
  }
}

function unexpected(message: string): H3Error {
  return new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, message);
}
