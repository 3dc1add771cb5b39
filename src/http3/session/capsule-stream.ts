/**
 * The Capsule Protocol on one request stream (RFC 9297 §3.2): the DATA payload of a stream in
 * capsule mode is fed, chunk by chunk, into a {@link CapsuleParser}; each complete known capsule
 * becomes a `capsule` event. A malformed or truncated capsule throws a stream-scoped
 * `CapsuleError` (H3_DATAGRAM_ERROR), which the session turns into a stream abort (§3.3).
 */
import { encodeCapsule } from '../../capsule/capsules.js';
import { CapsuleParser, type CapsuleParserOptions } from '../../capsule/parser.js';
import type { Capsule } from '../../capsule/types.js';
import type { H3Event } from './types.js';

export class CapsuleStream {
  readonly streamId: number;
  readonly #parser: CapsuleParser;
  #out: H3Event[] = [];
  /** Bound once per stream: no closure per chunk. */
  readonly #emit = (capsule: Capsule): void => {
    this.#out.push({ type: 'capsule', streamId: this.streamId, capsule });
  };

  constructor(streamId: number, options?: CapsuleParserOptions) {
    this.streamId = streamId;
    this.#parser = new CapsuleParser({
      ...options,
      onDiscard: (capsuleType, length, reason) => {
        this.#out.push({ type: 'capsule-discarded', streamId, capsuleType, length, reason });
      },
    });
  }

  /** Capsules skipped as unknown so far (RFC 9297 §3.2 "MUST silently drop"). */
  get skipped(): number {
    return this.#parser.skippedCapsules;
  }

  /** Feeds DATA payload bytes; complete capsules are appended to `out`. */
  push(data: Uint8Array, out: H3Event[]): void {
    this.#out = out;
    this.#parser.push(data, this.#emit);
  }

  /** The stream ended cleanly: a capsule cut short is an error (RFC 9297 §3.3). */
  end(): void {
    this.#parser.end();
  }

  /** One capsule's bytes, to send as DATA payload. */
  static encode(type: number | bigint, value: Uint8Array): Uint8Array {
    return encodeCapsule(type, value);
  }
}
