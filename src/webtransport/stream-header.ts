/**
 * The header of a WebTransport stream (draft §4.1, §4.2):
 *
 *   WebTransport Unidirectional Stream { Stream Type (i) = 0x54, Session ID (i), Stream Body (..) }
 *   WebTransport Bidirectional Stream { Signal Value (i) = 0x41, Session ID (i), Stream Body (..) }
 *
 * The HTTP/3 session recognises the first varint and passes the rest on; {@link SessionIdReader}
 * reads the Session ID from that rest, split anywhere across chunks.
 */
import { VarintPrefixReader } from '../http3/stream-prefix.js';
import { ByteWriter } from '../wire/writer.js';
import { WT_BIDI_SIGNAL, WT_UNI_STREAM_TYPE } from './constants.js';

/** The header of a stream we open for session `sessionId` (minimal varints: 0x41 takes 2 bytes). */
export function encodeWtStreamHeader(bidirectional: boolean, sessionId: number): Uint8Array {
  const w = new ByteWriter(16);
  w.varint(bidirectional ? WT_BIDI_SIGNAL : WT_UNI_STREAM_TYPE).varint(sessionId);
  return w.toBytes();
}

/** True when `id` can name a session: a client-initiated bidirectional stream (draft §4). */
export function isSessionId(id: bigint | number): boolean {
  return BigInt(id) % 4n === 0n;
}

/** Reads the Session ID that follows the signal or stream type. */
export class SessionIdReader {
  readonly #reader = new VarintPrefixReader();

  /** Consumes from `chunk`; returns the offset after the bytes taken (`chunk.length` if short). */
  push(chunk: Uint8Array): number {
    return this.#reader.push(chunk);
  }

  get done(): boolean {
    return this.#reader.done;
  }

  /** The exact Session ID (valid once `done`). */
  get value(): bigint {
    return this.#reader.value;
  }
}
