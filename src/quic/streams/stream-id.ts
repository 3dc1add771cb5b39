/**
 * Stream identifiers (RFC 9000 §2.1). The two low bits of a stream ID give its type:
 *
 *   bit 0 (0x01): initiator, 0 = client, 1 = server
 *   bit 1 (0x02): direction, 0 = bidirectional, 1 = unidirectional
 *
 * The remaining bits are the index of the stream within its type: `id = index * 4 + type`.
 * IDs are plain numbers (frame decoders reject IDs above 2^53 - 1), so arithmetic here uses `%` and
 * division, never 32-bit bitwise operators.
 */

/** The endpoint role, which decides which stream IDs are "local". */
export type Role = 'client' | 'server';

/** The four stream types, by the value of the two low bits of the ID (RFC 9000 §2.1 Table 1). */
export const StreamType = {
  CLIENT_BIDI: 0x00,
  SERVER_BIDI: 0x01,
  CLIENT_UNI: 0x02,
  SERVER_UNI: 0x03,
} as const;

export type StreamType = (typeof StreamType)[keyof typeof StreamType];

/** Largest number of streams of one type (RFC 9000 §4.6: limits above 2^60 are invalid). */
export const MAX_STREAMS_LIMIT = 2 ** 60;

/** The stream type (two low bits) of `id`. */
export function streamType(id: number): StreamType {
  return (id % 4) as StreamType;
}

/** Which endpoint opened the stream. */
export function streamInitiator(id: number): Role {
  return id % 2 === 0 ? 'client' : 'server';
}

/** True for bidirectional streams (bit 0x02 clear). */
export function isBidi(id: number): boolean {
  return id % 4 < 2;
}

/** True for unidirectional streams (bit 0x02 set). */
export function isUni(id: number): boolean {
  return id % 4 >= 2;
}

/** True when the endpoint playing `role` opened stream `id`. */
export function isLocal(id: number, role: Role): boolean {
  return streamInitiator(id) === role;
}

/** Position of the stream within its type: 0 for the first stream of each type. */
export function streamIndex(id: number): number {
  return Math.floor(id / 4);
}

/** The ID of the stream at `index` within `type`. */
export function streamIdOf(type: StreamType, index: number): number {
  return index * 4 + type;
}

/** The stream type opened by `role` in the given direction. */
export function streamTypeFor(role: Role, bidi: boolean): StreamType {
  return ((role === 'client' ? 0 : 1) + (bidi ? 0 : 2)) as StreamType;
}

/** True when the endpoint playing `role` may send on stream `id` (bidi, or its own uni). */
export function canSend(id: number, role: Role): boolean {
  return isBidi(id) || isLocal(id, role);
}

/** True when the endpoint playing `role` may receive on stream `id` (bidi, or the peer's uni). */
export function canReceive(id: number, role: Role): boolean {
  return isBidi(id) || !isLocal(id, role);
}
