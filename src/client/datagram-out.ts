/**
 * The send side shared by the SDK's tunnel sockets (`MasqueUdpSocket`, `MasqueBoundSocket`): one
 * HTTP datagram (Context ID and payload, RFC 9297 §2.1) out as a QUIC DATAGRAM frame, or as a
 * DATAGRAM capsule when QUIC datagrams are not negotiated or it does not fit one frame (RFC 9297
 * §3.5); `send` returns false on a local drop or when the caller should pause, and `onDrain`
 * tells when it may resume.
 */
import { CapsuleType } from '../capsule/types.js';
import { DatagramTooLargeError } from '../quic/api.js';
import type { TunnelStream } from './udp-socket.js';

/** Limits of a {@link DatagramOut}. */
export interface DatagramOutOptions {
  /** Stream backlog (bytes) above which capsule sends are refused. Default 1 MiB. */
  capsuleBacklogBytes?: number;
  /** Bytes queued above which `send` returns false: wait for drain. Default 256 KiB. */
  highWaterMark?: number;
}

export class DatagramOut {
  readonly #stream: TunnelStream;
  readonly #opts: DatagramOutOptions;
  readonly #onDrain: () => void;
  #needDrain = false;
  #offWritable: (() => void) | undefined;
  #disposed = false;
  /** Sends refused locally (the queue or the stream backlog was full). */
  dropped = 0;

  constructor(stream: TunnelStream, options: DatagramOutOptions, onDrain: () => void) {
    this.#stream = stream;
    this.#opts = options;
    this.#onDrain = onDrain;
  }

  /**
   * Sends one HTTP datagram payload (a view the caller may reuse once this returns). False when
   * it was dropped locally, or when it was queued but the caller should wait for `onDrain`.
   */
  send(out: Uint8Array): boolean {
    const s = this.#stream;
    const cap = this.#opts.capsuleBacklogBytes ?? 1024 * 1024;
    if (s.capsuleMode && s.bufferedAmount > cap) {
      this.dropped++;
      return false;
    }
    let ok = false;
    let viaCapsule = false;
    // Too large for a QUIC DATAGRAM frame: known beforehand, so no error is built per datagram
    // (the catch covers a limit that moved meanwhile).
    const max = s.maxDatagramPayload ?? 0;
    let tooLarge = max > 0 && out.length > max;
    if (!tooLarge) {
      try {
        ok = s.sendDatagram(out);
        viaCapsule = !s.datagramsEnabled;
      } catch (err) {
        if (!(err instanceof DatagramTooLargeError)) {
          this.dropped++;
          return false;
        }
        tooLarge = true;
      }
    }
    if (tooLarge) {
      if (!s.capsuleMode) {
        this.dropped++;
        return false;
      }
      s.sendCapsule(CapsuleType.DATAGRAM, out);
      ok = true;
      viaCapsule = true;
    }
    if (!ok) {
      // The transport's queue is full (a burst far beyond the high-water mark): a real drop.
      this.dropped++;
      this.#waitForDrain(false);
      return false;
    }
    const full = viaCapsule
      ? s.bufferedAmount > (this.#opts.highWaterMark ?? 256 * 1024)
      : !s.datagramsWritable;
    if (full) {
      this.#waitForDrain(viaCapsule);
      return false;
    }
    return true;
  }

  /** Stops listening for room (the socket closed). */
  dispose(): void {
    this.#disposed = true;
    this.#offWritable?.();
  }

  /** Calls `onDrain` once the queue that filled up has room again. */
  #waitForDrain(stream: boolean): void {
    if (this.#needDrain) return;
    this.#needDrain = true;
    if (stream) {
      void this.#stream.drained().then(() => this.#drain());
    } else {
      this.#offWritable ??= this.#stream.onDatagramsWritable(() => this.#drain());
      // A flush may already have made room (the event came before we listened).
      if (this.#stream.datagramsWritable) queueMicrotask(() => this.#drain());
    }
  }

  #drain(): void {
    if (!this.#needDrain || this.#disposed) return;
    this.#needDrain = false;
    this.#onDrain();
  }
}
