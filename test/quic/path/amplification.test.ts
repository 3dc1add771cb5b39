import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AmplificationLimit } from '../../../src/quic/path/index.js';

describe('anti-amplification limit (RFC 9000 §8, §8.1)', () => {
  it('a server that received one 1200-byte Initial may send 3600 bytes and no more', () => {
    const amp = new AmplificationLimit();
    amp.onReceived(1200);
    expect(amp.canSend(3600)).toBe(true);
    expect(amp.canSend(3601)).toBe(false);
    amp.onSent(1200);
    amp.onSent(1200);
    expect(amp.remaining()).toBe(1200);
    amp.onSent(1200);
    expect(amp.canSend(1)).toBe(false);
    expect(amp.remaining()).toBe(0);
  });

  it('nothing may be sent before anything was received', () => {
    const amp = new AmplificationLimit();
    expect(amp.canSend(1)).toBe(false);
    expect(amp.canSend(0)).toBe(true);
  });

  it('more bytes received (even undecryptable ones) raise the allowance', () => {
    const amp = new AmplificationLimit();
    amp.onReceived(1200);
    amp.onSent(3600);
    amp.onReceived(50);
    expect(amp.remaining()).toBe(150);
    expect(amp.bytesReceived).toBe(1250);
    expect(amp.bytesSent).toBe(3600);
  });

  it('once the address is validated the limit no longer applies', () => {
    const amp = new AmplificationLimit();
    amp.onReceived(100);
    amp.onSent(300);
    expect(amp.canSend(1200)).toBe(false);
    amp.setValidated();
    expect(amp.validated).toBe(true);
    expect(amp.canSend(1_000_000)).toBe(true);
    expect(amp.remaining()).toBe(Number.POSITIVE_INFINITY);
  });

  it('a client path (validated from the start) is never limited', () => {
    expect(new AmplificationLimit(true).canSend(1200)).toBe(true);
  });

  it('a sender that only sends what canSend allows never exceeds 3x what it received', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ recv: fc.nat(1500), send: fc.nat(1500) }), { maxLength: 50 }),
        (steps) => {
          const amp = new AmplificationLimit();
          let received = 0;
          let sent = 0;
          for (const s of steps) {
            amp.onReceived(s.recv);
            received += s.recv;
            if (amp.canSend(s.send)) {
              amp.onSent(s.send);
              sent += s.send;
            }
            expect(sent).toBeLessThanOrEqual(3 * received);
            expect(amp.remaining()).toBe(3 * received - sent);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
