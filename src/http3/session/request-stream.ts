/**
 * One request stream (a client-initiated bidirectional stream, RFC 9114 §6.1) as the receiving
 * side sees it: frames in, HTTP messages out. It enforces the frame sequence of §4.1
 * (HEADERS, DATA*, optional trailing HEADERS, with interim 1xx responses before the final one),
 * decodes field sections through QPACK (holding the stream while a section is blocked on the
 * encoder stream, RFC 9204 §2.2.1), validates them (§4.2, §4.3) and checks content-length
 * against the DATA received (§4.1.2). Errors are thrown as `H3Error` with the scope the RFC
 * names; the session catches them at its boundary.
 *
 * The sending side's state is kept here too (the session drives it), so one record per stream.
 */
import type { CapsuleParserOptions } from '../../capsule/parser.js';
import type { Field, FieldSectionResult } from '../../qpack/field-lines.js';
import { H3Error, H3ErrorCode } from '../errors.js';
import { type H3FrameEvent, H3FrameParser } from '../frame-parser.js';
import { H3FrameType } from '../frame-types.js';
import { CapsuleStream } from './capsule-stream.js';
import type { H3Event, H3Role } from './types.js';
import { validateRequestHeaders, validateResponseHeaders, validateTrailers } from './validate.js';

/** What a request stream needs from its session. */
export interface RequestStreamHost {
  /** Our role: a server receives requests, a client responses. */
  readonly role: H3Role;
  /** Server: whether `:protocol` is accepted (we sent SETTINGS_ENABLE_CONNECT_PROTOCOL=1). */
  readonly acceptExtendedConnect: boolean;
  /** Bytes a blocked stream may hold before it is reset with H3_EXCESSIVE_LOAD. */
  readonly maxBlockedBytes: number;
  /** QPACK-decodes a field section received on `streamId`. */
  decodeSection(streamId: number, block: Uint8Array): FieldSectionResult;
  /** The message's header section was delivered (datagrams held for the stream may follow). */
  headersDelivered(stream: RequestStream, out: H3Event[]): void;
}

/** Receive phases (§4.1). */
const INITIAL = 0; // no header section yet
const INTERIM = 1; // client: only 1xx responses so far
const BODY = 2; // final header section received: DATA or trailers may follow
const TRAILERS = 3; // trailer section received: only the end may follow

/** Send phases, driven by the session. */
export const SendPhase = {
  /** Nothing sent (server before `respond`). */
  IDLE: 0,
  /** Interim responses sent (server). */
  INTERIM: 1,
  /** The (final) header section was sent: DATA and trailers may follow. */
  HEADERS: 2,
  /** Trailers were sent with the FIN. */
  TRAILERS: 3,
  /** FIN sent. */
  DONE: 4,
  /** Reset. */
  RESET: 5,
} as const;
export type SendPhaseValue = (typeof SendPhase)[keyof typeof SendPhase];

/** Something held while the stream waits for the QPACK encoder stream. */
type Held = H3FrameEvent | { readonly kind: 'raw'; readonly chunk: Uint8Array } | { kind: 'fin' };

const EMPTY = new Uint8Array(0);

/** An event whose `fin` flag the end of the stream may still set. */
type FinEvent = Extract<H3Event, { fin: boolean }>;

function unexpected(message: string): H3Error {
  // §4.1: "Receipt of an invalid sequence of frames MUST be treated as a connection error of type
  // H3_FRAME_UNEXPECTED."
  return new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, message);
}

function malformed(message: string): H3Error {
  return new H3Error(H3ErrorCode.H3_MESSAGE_ERROR, `malformed message: ${message}`, 'stream');
}

export class RequestStream {
  readonly id: number;
  readonly #parser: H3FrameParser;
  /** Reused for every chunk of this stream. */
  readonly #events: H3FrameEvent[] = [];
  #phase = INITIAL;
  /** Non-undefined while a field section is blocked. */
  #held: Held[] | undefined;
  #heldBytes = 0;
  #blockedSection: Uint8Array | undefined;
  #contentLength = -1;
  #received = 0;
  /** CONNECT with a tunnel: after the header section only DATA (and unknown) frames (§4.4). */
  #tunnel = false;
  #last: FinEvent | undefined;

  /** Receive side finished: FIN processed, reset by the peer, or reading aborted. */
  recvDone = false;
  /** The header section (server: request; client: final response) was delivered. */
  headersDelivered = false;
  /** Capsule mode (RFC 9297 §3.2), when the caller enabled it. */
  capsules: CapsuleStream | undefined;

  /** Sending side, driven by the session. */
  sendPhase: SendPhaseValue = SendPhase.IDLE;
  /** Request method (client: ours; server: the peer's, once received). */
  method = '';
  /** Whether the request is CONNECT (plain or extended). */
  isConnect = false;

  constructor(id: number, peer: H3Role, maxFieldSectionBytes: number) {
    this.id = id;
    this.#parser = new H3FrameParser({
      stream: 'request',
      sender: peer,
      maxFieldSectionBytes,
    });
  }

  /** True until a header section has been received (the server may still answer 431). */
  get awaitingHeaders(): boolean {
    return this.#phase === INITIAL;
  }

  /** Bytes of an incomplete HEADERS frame held by the frame parser (0 once reading ended). */
  get incompleteHeaderBytes(): number {
    return this.recvDone ? 0 : this.#parser.bufferedBytes;
  }

  /** True while a field section waits for the QPACK encoder stream. */
  get blocked(): boolean {
    return this.#held !== undefined;
  }

  /** True when both directions are finished. */
  get finished(): boolean {
    return this.recvDone && this.sendPhase >= SendPhase.DONE;
  }

  /** An extended or plain CONNECT whose tunnel is open (server: requested; client: 2xx). */
  get tunnel(): boolean {
    return this.#tunnel;
  }

  /** Switches the DATA payload to capsule parsing (RFC 9297 §3.2). */
  enableCapsules(options?: CapsuleParserOptions): void {
    this.capsules ??= new CapsuleStream(this.id, options);
  }

  /** Stream data from the transport. */
  receive(data: Uint8Array, fin: boolean, host: RequestStreamHost, out: H3Event[]): void {
    if (this.recvDone) return;
    if (this.#held !== undefined) {
      if (data.length > 0) this.#hold({ kind: 'raw', chunk: data.slice() }, data.length, host);
      if (fin) this.#held.push({ kind: 'fin' });
      return;
    }
    if (data.length > 0) this.#parse(data, host, out);
    if (fin) {
      // #parse may have blocked the stream.
      const held = this.#heldNow();
      if (held !== undefined) held.push({ kind: 'fin' });
      else this.#end(host, out);
    }
  }

  /** The encoder stream reached the blocked section's Required Insert Count. */
  resume(host: RequestStreamHost, out: H3Event[]): void {
    const section = this.#blockedSection;
    const held = this.#held;
    if (section === undefined || held === undefined || this.recvDone) return;
    this.#blockedSection = undefined;
    this.#held = undefined;
    this.#heldBytes = 0;
    this.#onSection(section, host, out);
    for (let i = 0; i < held.length; i++) {
      const again = this.#heldNow();
      if (again !== undefined) {
        // Blocked again (a later section): keep the rest, in order.
        for (let k = i; k < held.length; k++) again.push(held[k]);
        return;
      }
      const item = held[i];
      if (item.kind === 'raw') this.#parse(item.chunk, host, out);
      else if (item.kind === 'fin') this.#end(host, out);
      else this.#onFrameEvent(item, host, out);
    }
  }

  /** The hold list as it is now (a call may have just blocked the stream). */
  #heldNow(): Held[] | undefined {
    return this.#held;
  }

  /** The receive side ends abruptly (peer reset, or we abort reading): drop what is held. */
  abortReceive(): void {
    this.recvDone = true;
    this.#held = undefined;
    this.#heldBytes = 0;
    this.#blockedSection = undefined;
  }

  #parse(data: Uint8Array, host: RequestStreamHost, out: H3Event[]): void {
    const events = this.#events;
    events.length = 0;
    this.#parser.push(data, events);
    for (let i = 0; i < events.length; i++) {
      if (this.#held !== undefined) {
        // A HEADERS frame blocked: hold the rest of this chunk's events, copying byte views.
        for (let k = i; k < events.length; k++) {
          const ev = events[k];
          if (ev.kind === 'data') {
            this.#hold({ kind: 'data', chunk: ev.chunk.slice() }, ev.chunk.length, host);
          } else if (ev.kind === 'frame' && ev.frame.kind === 'HEADERS') {
            const fieldSection = ev.frame.fieldSection.slice();
            this.#hold({ kind: 'frame', frame: { kind: 'HEADERS', fieldSection } }, 0, host);
          } else {
            this.#hold(ev, 0, host);
          }
        }
        break;
      }
      this.#onFrameEvent(events[i], host, out);
    }
    events.length = 0;
  }

  #hold(item: Held, bytes: number, host: RequestStreamHost): void {
    this.#heldBytes += bytes;
    if (this.#heldBytes > host.maxBlockedBytes) {
      throw new H3Error(
        H3ErrorCode.H3_EXCESSIVE_LOAD,
        `${this.#heldBytes} bytes held behind a blocked field section`,
        'stream',
      );
    }
    this.#held!.push(item);
  }

  #onFrameEvent(ev: H3FrameEvent, host: RequestStreamHost, out: H3Event[]): void {
    switch (ev.kind) {
      case 'frame-header':
        this.#onFrameHeader(ev.type);
        return;
      case 'data':
        this.#onData(ev.chunk, out);
        return;
      case 'frame':
        if (ev.frame.kind === 'HEADERS') {
          this.#onSection(ev.frame.fieldSection, host, out);
        } else if (ev.frame.kind === 'PUSH_PROMISE') {
          // We never send MAX_PUSH_ID. §7.2.5: "A client MUST treat receipt of a PUSH_PROMISE
          // frame that contains a larger push ID than the client has advertised as a connection
          // error of H3_ID_ERROR." (A server receiving one fails earlier, in the frame parser.)
          throw new H3Error(H3ErrorCode.H3_ID_ERROR, 'PUSH_PROMISE without MAX_PUSH_ID');
        }
        return;
    }
  }

  #onFrameHeader(type: number): void {
    if (type === H3FrameType.DATA) {
      if (this.#phase === INITIAL) throw unexpected('DATA before HEADERS on a request stream');
      if (this.#phase === TRAILERS) throw unexpected('DATA after the trailing HEADERS');
      // §4.1: "Interim responses do not contain content".
      if (this.#phase === INTERIM) throw malformed('content after an interim response');
    } else if (type === H3FrameType.HEADERS) {
      if (this.#phase === TRAILERS) throw unexpected('HEADERS after the trailing HEADERS');
      // §4.4: "Once the CONNECT method has completed, only DATA frames are permitted ... Receipt
      // of any other known frame type MUST be treated as a connection error of type
      // H3_FRAME_UNEXPECTED."
      if (this.#phase === BODY && this.#tunnel) throw unexpected('HEADERS on a CONNECT tunnel');
    }
  }

  #onSection(block: Uint8Array, host: RequestStreamHost, out: H3Event[]): void {
    const result = host.decodeSection(this.id, block);
    if (result.status === 'blocked') {
      // RFC 9204 §2.2.1: the stream waits; its later bytes are held in order.
      this.#blockedSection = block.slice();
      this.#held = [];
      return;
    }
    if (result.status === 'tooLarge') {
      throw new H3Error(
        H3ErrorCode.H3_EXCESSIVE_LOAD,
        `field section of ${result.size}+ bytes above our SETTINGS_MAX_FIELD_SECTION_SIZE`,
        'stream',
      );
    }
    if (host.role === 'server') this.#onRequestSection(result.fields, host, out);
    else this.#onResponseSection(result.fields, host, out);
  }

  #onRequestSection(fields: Field[], host: RequestStreamHost, out: H3Event[]): void {
    if (this.#phase !== INITIAL) {
      this.#onTrailers(fields, out);
      return;
    }
    const info = validateRequestHeaders(fields, host.acceptExtendedConnect);
    this.method = info.method;
    this.isConnect = info.method === 'CONNECT';
    this.#tunnel = this.isConnect;
    this.#contentLength = this.isConnect ? -1 : info.contentLength;
    this.#phase = BODY;
    const ev: H3Event = {
      type: 'request',
      streamId: this.id,
      headers: fields,
      fin: false,
      method: info.method,
    };
    if (info.scheme !== undefined) ev.scheme = info.scheme;
    if (info.authority !== undefined) ev.authority = info.authority;
    if (info.path !== undefined) ev.path = info.path;
    if (info.protocol !== undefined) ev.protocol = info.protocol;
    out.push(ev);
    this.#last = ev;
    this.headersDelivered = true;
    host.headersDelivered(this, out);
  }

  #onResponseSection(fields: Field[], host: RequestStreamHost, out: H3Event[]): void {
    if (this.#phase === BODY) {
      this.#onTrailers(fields, out);
      return;
    }
    const info = validateResponseHeaders(fields);
    if (info.status < 200) {
      this.#phase = INTERIM;
      out.push({ type: 'interim', streamId: this.id, headers: fields, status: info.status });
      return;
    }
    const ok = info.status < 300;
    this.#tunnel = this.isConnect && ok;
    // §4.1.2: a response "defined as never having content" may carry any content-length.
    const noContent =
      this.method === 'HEAD' || info.status === 204 || info.status === 304 || this.#tunnel;
    this.#contentLength = noContent ? -1 : info.contentLength;
    this.#phase = BODY;
    const ev: H3Event = {
      type: 'headers',
      streamId: this.id,
      headers: fields,
      status: info.status,
      fin: false,
    };
    out.push(ev);
    this.#last = ev;
    this.headersDelivered = true;
    host.headersDelivered(this, out);
  }

  #onTrailers(fields: Field[], out: H3Event[]): void {
    validateTrailers(fields);
    this.#phase = TRAILERS;
    const ev: H3Event = { type: 'trailers', streamId: this.id, headers: fields, fin: false };
    out.push(ev);
    this.#last = ev;
  }

  #onData(chunk: Uint8Array, out: H3Event[]): void {
    this.#received += chunk.length;
    if (this.#contentLength >= 0 && this.#received > this.#contentLength) {
      throw malformed(`more than content-length ${this.#contentLength} bytes of DATA`);
    }
    if (this.capsules !== undefined) {
      this.capsules.push(chunk, out);
      return;
    }
    const ev: H3Event = { type: 'data', streamId: this.id, data: chunk, fin: false };
    out.push(ev);
    this.#last = ev;
  }

  #end(host: RequestStreamHost, out: H3Event[]): void {
    // §7.1: a frame cut short by the end of the stream is H3_FRAME_ERROR (thrown by the parser).
    this.#parser.end();
    this.capsules?.end();
    if (this.#phase === INITIAL || this.#phase === INTERIM) {
      if (host.role === 'server') {
        // §4.1: "the server SHOULD abort its response stream with the error code
        // H3_REQUEST_INCOMPLETE".
        throw new H3Error(
          H3ErrorCode.H3_REQUEST_INCOMPLETE,
          'request stream ended before a complete header section',
          'stream',
        );
      }
      throw malformed('response stream ended before a final response');
    }
    if (this.#contentLength >= 0 && this.#received !== this.#contentLength) {
      // §4.1.2: malformed "if the value of the Content-Length header field does not equal the sum
      // of the DATA frame lengths received".
      throw malformed(`content-length ${this.#contentLength} but ${this.#received} bytes of DATA`);
    }
    this.recvDone = true;
    const last = this.#last;
    if (last !== undefined && out.length > 0 && out[out.length - 1] === last) {
      last.fin = true;
    } else {
      out.push({ type: 'data', streamId: this.id, data: EMPTY, fin: true });
    }
  }
}
