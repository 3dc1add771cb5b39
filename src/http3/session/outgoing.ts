/**
 * Outgoing messages: checking a header section before anything is sent (the session refuses to
 * generate what a peer must treat as malformed, RFC 9114 §4.2, §4.3), and writing HEADERS and
 * DATA frames onto a request stream through the send queue, QPACK encoder instructions first.
 */
import type { Field } from '../../qpack/field-lines.js';
import { encodeVarint, varintLength } from '../../wire/varint.js';
import { H3Error } from '../errors.js';
import { H3FrameType } from '../frame-types.js';
import type { QpackLink } from './qpack-link.js';
import type { SendQueue } from './send-queue.js';
import { type H3Headers, H3UsageError, type PeerSettings } from './types.js';
import {
  fieldSectionSize,
  lowercaseNames,
  type RequestInfo,
  validateRequestHeaders,
  validateResponseHeaders,
  validateTrailers,
} from './validate.js';

const EMPTY = new Uint8Array(0);
/** DATA payloads up to this size are sent in one buffer with their frame header. */
const COALESCE_LIMIT = 1024;

/** Runs an outgoing validation, turning a malformed-message error into a usage error. */
function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof H3Error) {
      throw new H3UsageError('INVALID_HEADERS', err.message, { cause: err });
    }
    throw err;
  }
}

function checkSize(fields: Field[], peer: PeerSettings | undefined): void {
  const max = peer?.maxFieldSectionSize ?? Number.MAX_SAFE_INTEGER;
  // §4.2.2: "An implementation that has received this parameter SHOULD NOT send an HTTP message
  // header that exceeds the indicated size".
  if (fieldSectionSize(fields) > max) {
    throw new H3UsageError('HEADERS_TOO_LARGE', `section above the peer's limit of ${max}`);
  }
}

/** A request section ready to send, or an `H3UsageError`. */
export function prepareRequest(
  headers: H3Headers,
  peer: PeerSettings | undefined,
): { fields: Field[]; info: RequestInfo } {
  const fields = lowercaseNames(headers);
  let extended = false;
  for (let i = 0; i < fields.length; i++) if (fields[i][0] === ':protocol') extended = true;
  if (extended) {
    // RFC 8441 §4 via RFC 9220: :protocol only once the server sent
    // SETTINGS_ENABLE_CONNECT_PROTOCOL=1.
    if (peer === undefined) {
      throw new H3UsageError('SETTINGS_PENDING', 'extended CONNECT needs the server SETTINGS');
    }
    if (!peer.enableConnectProtocol) {
      throw new H3UsageError('EXTENDED_CONNECT_DISABLED', 'server did not enable :protocol');
    }
  }
  const info = usage(() => validateRequestHeaders(fields, extended));
  checkSize(fields, peer);
  return { fields, info };
}

/** A response section ready to send, with its status. */
export function prepareResponse(
  headers: H3Headers,
  peer: PeerSettings | undefined,
): { fields: Field[]; status: number } {
  const fields = lowercaseNames(headers);
  const { status } = usage(() => validateResponseHeaders(fields));
  checkSize(fields, peer);
  return { fields, status };
}

/** A trailer section ready to send. */
export function prepareTrailers(headers: H3Headers, peer: PeerSettings | undefined): Field[] {
  const fields = lowercaseNames(headers);
  usage(() => validateTrailers(fields));
  checkSize(fields, peer);
  return fields;
}

/** Writes HEADERS and DATA frames. */
export class MessageWriter {
  readonly #send: SendQueue;
  readonly #qpack: QpackLink;

  constructor(send: SendQueue, qpack: QpackLink) {
    this.#send = send;
    this.#qpack = qpack;
  }

  /** QPACK-encodes a section and writes one HEADERS frame; encoder instructions go out first. */
  writeSection(streamId: number, fields: Field[], fin: boolean): void {
    const section = this.#qpack.encode(streamId, fields);
    const head = 1 + varintLength(section.length);
    const frame = new Uint8Array(head + section.length);
    frame[0] = H3FrameType.HEADERS;
    encodeVarint(frame, 1, section.length);
    frame.set(section, head);
    this.#send.write(streamId, frame, fin);
  }

  /**
   * Writes one DATA frame (or only the FIN for empty `data`). Small payloads share a buffer with
   * their frame header; large ones are queued as a view after it, without copying.
   */
  writeData(streamId: number, data: Uint8Array, fin: boolean): void {
    const n = data.length;
    if (n === 0) {
      if (fin) this.#send.write(streamId, EMPTY, true);
      return;
    }
    // DATA frame header: Type 0x00, Length (i).
    const head = 1 + varintLength(n);
    if (n <= COALESCE_LIMIT) {
      const frame = new Uint8Array(head + n);
      encodeVarint(frame, 1, n);
      frame.set(data, head);
      this.#send.write(streamId, frame, fin);
      return;
    }
    const header = new Uint8Array(head);
    encodeVarint(header, 1, n);
    this.#send.write(streamId, header);
    this.#send.write(streamId, data, fin);
  }
}
