/**
 * Turns stream-manager events into application events (`QuicAppEvent`): readable data is pushed
 * to the application as soon as it is contiguous (the `QuicTransport` contract), which also
 * returns flow-control credit to the peer.
 */
import type { ConnectionCore } from './core.js';

const EMPTY = new Uint8Array(0);

export function deliverStreamEvents(c: ConnectionCore): void {
  const streams = c.streams;
  for (let ev = streams.pollEvent(); ev !== undefined; ev = streams.pollEvent()) {
    switch (ev.type) {
      case 'readable':
        drainStream(c, ev.streamId);
        break;
      case 'reset': {
        const recv = streams.recvStream(ev.streamId);
        const finalSize = recv?.finalSize ?? 0;
        // Moves the receiving part to Reset Read so the stream can be retired.
        recv?.read();
        c.emit({ type: 'stream-reset', streamId: ev.streamId, errorCode: ev.errorCode, finalSize });
        break;
      }
      case 'stop_sending':
        c.emit({ type: 'stop-sending', streamId: ev.streamId, errorCode: ev.errorCode });
        break;
      case 'writable':
        c.emit({ type: 'stream-writable', streamId: ev.streamId });
        break;
      case 'streams_available':
        c.emit({ type: 'streams-available', bidirectional: ev.bidi });
        break;
      default:
        break;
    }
  }
}

/** Hands every contiguous byte of a stream to the application. */
function drainStream(c: ConnectionCore, id: number): void {
  const recv = c.streams.recvStream(id);
  if (recv === null) return;
  let finSent = false;
  for (let chunk = recv.read(); chunk !== null; chunk = recv.read()) {
    const fin = recv.finished;
    c.emit({ type: 'stream-data', streamId: id, data: chunk, fin });
    if (fin) finSent = true;
  }
  if (recv.finished && !finSent)
    c.emit({ type: 'stream-data', streamId: id, data: EMPTY, fin: true });
}
