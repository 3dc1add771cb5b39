/**
 * The HTTP/1.1 adapter over an in-memory socket: the exact bytes of its 101 and refusals, the
 * data stream before the answer, clean end versus abort (RFC 9297 §3.3), and `bufferedAmount`
 * (what the relay's backpressure reads).
 */
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { H3ErrorCode } from '../../../src/http3/errors.js';
import { H1ConnectUdpSession } from '../../../src/runtime/h1/h1-connect-session.js';
import { datagramCapsule } from '../../support/capsule-frames.js';

/** A socket whose writes are recorded; `stall` keeps them unacknowledged (a full TCP window). */
function socket(stall = false) {
  const written: Buffer[] = [];
  const pending: Array<() => void> = [];
  const s = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk);
      if (stall) pending.push(cb);
      else cb();
    },
  });
  return { s, text: () => Buffer.concat(written).toString('latin1'), written };
}

const session = (s: Duplex, head: Uint8Array = new Uint8Array()) =>
  new H1ConnectUdpSession(s, [[':path', '/p']], head, '127.0.0.1:1', []);

describe('H1ConnectUdpSession', () => {
  it('accept writes RFC 9298 §3.4’s 101 and the handler’s fields, never framing ones', () => {
    const { s, text } = socket();
    const t = session(s);
    expect(t.transport).toBe('h1');
    expect(t.sendDatagram(new Uint8Array([1]))).toBe(false); // no data stream before the 101
    t.accept([
      ['proxy-status', 'masque'],
      ['connection', 'close'],
      ['capsule-protocol', '?0'],
    ]);
    expect(text()).toBe(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: connect-udp\r\n' +
        'Capsule-Protocol: ?1\r\nproxy-status: masque\r\n\r\n',
    );
    expect(t.sendDatagram(new Uint8Array([9, 8]))).toBe(true);
    // RFC 9297 §3.5: DATAGRAM (0x00), length, the HTTP datagram (Context ID and payload).
    expect(text().endsWith('\x00\x02\x09\x08')).toBe(true);
  });

  it('reject answers the status with Connection: close and ends the connection', async () => {
    const { s, text } = socket();
    const t = session(s);
    t.reject(502, [['proxy-status', 'masque; error=dns_error']]);
    expect(text()).toBe(
      'HTTP/1.1 502 Bad Gateway\r\nproxy-status: masque; error=dns_error\r\n' +
        'Content-Length: 0\r\nConnection: close\r\n\r\n',
    );
    expect(s.writableEnded).toBe(true);
    expect(await t.closed).toEqual({ kind: 'end' });
  });

  it('a field that would split the response is not written; the connection is cut', () => {
    const { s, text } = socket();
    const t = session(s);
    t.accept([['x-evil', 'a\r\nSet-Cookie: b']]);
    expect(text()).toBe('');
    expect(s.destroyed).toBe(true);
    expect(t.closeInfo).toEqual({ kind: 'connection' });
  });

  it('bytes behind the request head are the data stream: held until the relay listens', async () => {
    const { s } = socket();
    const t = session(s, datagramCapsule([1, 2]));
    s.push(datagramCapsule([3]));
    await new Promise((r) => setImmediate(r));
    const got: number[][] = [];
    t.onDatagram((p) => got.push([...p]));
    expect(got).toEqual([
      [0, 1, 2],
      [0, 3],
    ]);
  });

  it('a clean end ends our side too; a capsule cut short by it aborts (RFC 9297 §3.3)', async () => {
    const clean = socket();
    const a = session(clean.s);
    a.accept();
    clean.s.push(datagramCapsule([1]));
    clean.s.push(null);
    await new Promise((r) => setImmediate(r));
    expect(clean.s.writableEnded).toBe(true);
    expect(await a.closed).toEqual({ kind: 'end' });

    const cut = socket();
    const b = session(cut.s);
    b.accept();
    cut.s.push(Buffer.from([0x00, 0x0a, 0x00, 0x01]));
    cut.s.push(null);
    expect(await b.closed).toEqual({ kind: 'reset', code: H3ErrorCode.H3_DATAGRAM_ERROR });
    expect(cut.s.destroyed).toBe(true);
  });

  it('bufferedAmount is the unsent bytes the relay compares with its cap', () => {
    const { s } = socket(true);
    const t = session(s);
    t.accept();
    const before = t.bufferedAmount;
    t.sendDatagram(new Uint8Array(1000));
    t.sendDatagram(new Uint8Array(1000));
    expect(t.bufferedAmount).toBeGreaterThanOrEqual(before + 2000);
  });
});
