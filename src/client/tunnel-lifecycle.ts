/**
 * What the SDK's two tunnel sockets (`MasqueUdpSocket`, `MasqueBoundSocket`) do alike at the
 * edges of a tunnel's life: refusing a send after close, reporting a send error the way
 * node:dgram does, closing with a grace period, naming why the proxy ended the tunnel, and
 * ending an async iterator.
 */
import type { EventEmitter } from 'node:events';
import { H3ErrorCode, h3ErrorName } from '../http3/errors.js';
import type { AsyncQueue } from '../runtime/h3/async-queue.js';
import { MasqueError, MasqueErrorCode } from './errors.js';

/** How a tunnel's stream ended. */
export type TunnelCloseInfo = { kind: 'end' | 'reset' | 'connection'; code?: number };

/** The MASQUE_CLOSED error of a send after the tunnel closed; `cause` is what ended it. */
export function closedError(ended: MasqueError | undefined): MasqueError {
  const why = ended === undefined ? '' : `: ${ended.message}`;
  return new MasqueError(MasqueErrorCode.CLOSED, `the tunnel is closed${why}`, {
    cause: ended,
    h3Code: ended?.h3Code,
  });
}

/**
 * A send error, node:dgram's way: to `callback` when given, else as `error` when someone
 * listens, else thrown. Always returns false (nothing was sent).
 */
export function failSend(
  socket: EventEmitter,
  err: MasqueError,
  callback: ((err: MasqueError | null) => void) | undefined,
): false {
  if (callback !== undefined) {
    process.nextTick(callback, err);
    return false;
  }
  if (socket.listenerCount('error') > 0) {
    process.nextTick(() => socket.emit('error', err));
    return false;
  }
  throw err;
}

/** FIN on the stream, and a reset if the proxy has not ended its side within `graceMs`. */
export function closeWithGrace(
  stream: {
    close(): void;
    abort(code?: number): void;
    readonly closeInfo: unknown;
    readonly closed: Promise<unknown>;
  },
  graceMs: number,
): void {
  stream.close();
  const t = setTimeout(() => {
    if (stream.closeInfo === undefined) stream.abort();
  }, graceMs);
  t.unref();
  void stream.closed.then(() => clearTimeout(t));
}

/** Why the tunnel ended, as an error, unless it ended cleanly (the proxy's FIN). */
export function endError(info: TunnelCloseInfo): MasqueError | undefined {
  if (info.kind === 'end') return undefined;
  return info.kind === 'connection'
    ? new MasqueError(MasqueErrorCode.CONNECTION_CLOSED, 'the connection to the proxy closed', {
        h3Code: info.code,
      })
    : new MasqueError(MasqueErrorCode.TUNNEL_RESET, resetReason(info.code), { h3Code: info.code });
}

/** Ends an iterator's queue: with the error that ended the tunnel, or cleanly. */
export function endQueue<T>(
  queue: AsyncQueue<T> | undefined,
  error: MasqueError | undefined,
): void {
  if (queue === undefined || queue.ended) return;
  if (error !== undefined) queue.fail(error);
  else queue.end();
}

/** Why the proxy reset a tunnel, in words, from its HTTP/3 error code. */
export function resetReason(code: number | undefined): string {
  if (code === undefined) return 'the proxy reset the tunnel';
  const named = h3ErrorName(code);
  const name = named.startsWith('0x') ? named : `${named} (0x${code.toString(16)})`;
  switch (code) {
    case H3ErrorCode.H3_CONNECT_ERROR:
      // RFC 9114 §8.1: "The TCP connection established in response to a CONNECT request was
      // reset or abnormally closed"; our proxy (and RFC 9298 §3.1's "MUST close the request
      // stream") uses it when the target's socket fails, e.g. on ICMP port unreachable.
      return `the proxy reset the tunnel with ${name}: the target is unreachable (e.g. ICMP port or host unreachable)`;
    case H3ErrorCode.H3_DATAGRAM_ERROR:
      return `the proxy reset the tunnel with ${name}: it found a malformed datagram or capsule`;
    case H3ErrorCode.H3_REQUEST_CANCELLED:
      return `the proxy reset the tunnel with ${name}: it cancelled the tunnel`;
    case H3ErrorCode.H3_EXCESSIVE_LOAD:
      return `the proxy reset the tunnel with ${name}: too much was buffered`;
    default:
      return `the proxy reset the tunnel with ${name}`;
  }
}
