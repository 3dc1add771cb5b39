/**
 * A request/response workload over two sessions: the client POSTs bodies, the server answers
 * with the SHA-256 of what it received and a body of its own; both sides check by hash.
 */
import { createHash, type Hash } from 'node:crypto';
import { expect } from 'vitest';
import type { H3Event } from '../../../src/http3/session/types.js';
import { SeededRandom } from '../../../src/util/random.js';
import { body, type Connected, sha256 } from './harness.js';

export interface Workload {
  requests: number;
  concurrency: number;
  /** Request and response body sizes for request `i`. */
  sizes: (i: number, rng: SeededRandom) => [req: number, res: number];
  /** Send request trailers / response trailers on some exchanges. */
  trailers?: boolean;
  /** Server sends a 103 interim response first on some exchanges. */
  interim?: boolean;
  /** Bytes per sendData call (bodies are cut into pieces of this size). Default whole. */
  piece?: number;
}

interface ServerState {
  hash: Hash;
  path: string;
  received: number;
}

interface ClientState {
  index: number;
  expect: string;
  hash: Hash;
  status: number;
  reqHash: string;
  interim: number;
  trailers: boolean;
  done: boolean;
}

/** Runs the workload; returns the number of completed exchanges. */
export function runWorkload(c: Connected, w: Workload, seed = 1): number {
  const rng = new SeededRandom(seed);
  const server = new Map<number, ServerState>();
  const client = new Map<number, ClientState>();
  let started = 0;
  let completed = 0;
  let guard = 0;
  const sendBody = (send: (b: Uint8Array, fin: boolean) => void, b: Uint8Array, fin: boolean) => {
    const piece = w.piece ?? Math.max(1, b.length);
    if (b.length === 0) {
      send(b, fin);
      return;
    }
    for (let off = 0; off < b.length; off += piece) {
      const end = Math.min(b.length, off + piece);
      send(b.subarray(off, end), fin && end === b.length);
    }
  };
  while (completed < w.requests) {
    if (++guard > 100_000) throw new Error('workload stalled');
    while (started < w.requests && client.size < w.concurrency) {
      const i = started++;
      const [reqSize, resSize] = w.sizes(i, rng);
      const reqBody = body(reqSize, 1000 + i);
      const trailers = w.trailers === true && i % 3 === 0;
      const headers: Array<[string, string]> = [
        [':method', 'POST'],
        [':scheme', 'https'],
        [':authority', 'example.com'],
        [':path', `/blob/${resSize}/${i}`],
        ['x-request-index', String(i)],
        ['content-type', 'application/octet-stream'],
      ];
      if (i % 2 === 0) headers.push(['content-length', String(reqSize)]);
      const id = c.client.request(headers);
      client.set(id, {
        index: i,
        expect: sha256([body(resSize, 5000 + i)]),
        hash: createHash('sha256'),
        status: 0,
        reqHash: sha256([reqBody]),
        interim: 0,
        trailers: false,
        done: false,
      });
      const send = (b: Uint8Array, fin: boolean) => c.client.sendData(id, b, fin);
      if (trailers) {
        sendBody(send, reqBody, false);
        c.client.sendTrailers(id, [['x-trailer', `t${i}`]]);
      } else {
        sendBody(send, reqBody, true);
      }
    }
    const ev = c.pump();
    for (const e of ev.server) onServer(e);
    for (const e of ev.client) onClient(e);
    if (ev.server.length === 0 && ev.client.length === 0) c.pump();
  }
  return completed;

  function onServer(e: H3Event): void {
    switch (e.type) {
      case 'writable':
        return;
      case 'request': {
        expect(e.method).toBe('POST');
        server.set(e.streamId, { hash: createHash('sha256'), path: e.path!, received: 0 });
        if (e.fin) finish(e.streamId);
        return;
      }
      case 'data': {
        const s = server.get(e.streamId)!;
        s.hash.update(e.data);
        s.received += e.data.length;
        if (e.fin) finish(e.streamId);
        return;
      }
      case 'trailers':
        expect(e.headers[0][0]).toBe('x-trailer');
        if (e.fin) finish(e.streamId);
        return;
      case 'stream-error':
      case 'reset':
      case 'connection-error':
        throw new Error(`server: unexpected ${JSON.stringify(e)}`);
    }
  }

  function finish(id: number): void {
    const s = server.get(id)!;
    server.delete(id);
    const [, , size, index] = s.path.split('/');
    const i = Number(index);
    const resBody = body(Number(size), 5000 + i);
    if (w.interim === true && i % 4 === 1)
      c.server.respond(id, [
        [':status', '103'],
        ['link', '</a>'],
      ]);
    const trailers = w.trailers === true && i % 3 === 1;
    c.server.respond(id, [
      [':status', '200'],
      ['x-request-sha256', s.hash.digest('hex')],
      ['content-length', String(resBody.length)],
    ]);
    const send = (b: Uint8Array, fin: boolean) => c.server.sendData(id, b, fin);
    if (trailers) {
      sendBody(send, resBody, false);
      c.server.sendTrailers(id, [['x-done', '1']]);
    } else {
      sendBody(send, resBody, true);
    }
  }

  function onClient(e: H3Event): void {
    if (!('streamId' in e)) {
      if (e.type === 'connection-error' || e.type === 'closed') {
        throw new Error(`client: unexpected ${JSON.stringify(e)}`);
      }
      return;
    }
    const s = client.get(e.streamId);
    if (s === undefined) throw new Error(`client: event for unknown stream ${JSON.stringify(e)}`);
    switch (e.type) {
      case 'interim':
        expect(e.status).toBe(103);
        s.interim++;
        return;
      case 'headers':
        s.status = e.status;
        expect(e.headers.find(([n]) => n === 'x-request-sha256')?.[1]).toBe(s.reqHash);
        if (e.fin) done(e.streamId, s);
        return;
      case 'data':
        s.hash.update(e.data);
        if (e.fin) done(e.streamId, s);
        return;
      case 'trailers':
        s.trailers = true;
        if (e.fin) done(e.streamId, s);
        return;
      case 'writable':
        return;
      default:
        throw new Error(`client: unexpected ${JSON.stringify(e)}`);
    }
  }

  function done(id: number, s: ClientState): void {
    expect(s.status).toBe(200);
    expect(s.hash.digest('hex')).toBe(s.expect);
    if (w.interim === true && s.index % 4 === 1) expect(s.interim).toBe(1);
    if (w.trailers === true) expect(s.trailers).toBe(s.index % 3 === 1);
    client.delete(id);
    completed++;
  }
}
