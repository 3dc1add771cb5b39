/**
 * The tunnel's target socket over several addresses (open-target.ts, RFC 8305 §4): a failure of
 * the network falls back to the next address (the other family first), one that no other
 * address would cure stops, and every attempt is reported.
 */
import { describe, expect, it } from 'vitest';
import {
  interleaveFamilies,
  type ResolvedAddress,
} from '../../../src/masque/connect-udp/resolve.js';
import { describeAttempts, openFirstReachable } from '../../../src/masque/proxy/open-target.js';
import type { UdpTarget } from '../../../src/masque/proxy/udp-socket.js';

const v6a: ResolvedAddress = { address: '2001:db8::1', family: 6 };
const v6b: ResolvedAddress = { address: '2001:db8::2', family: 6 };
const v4a: ResolvedAddress = { address: '192.0.2.1', family: 4 };
const v4b: ResolvedAddress = { address: '192.0.2.2', family: 4 };
const v4c: ResolvedAddress = { address: '192.0.2.3', family: 4 };

/** An opener failing with `codes[address]`, recording its attempts. */
function opener(codes: Record<string, string>) {
  const tried: string[] = [];
  const open = async (t: UdpTarget): Promise<string> => {
    tried.push(t.address);
    const code = codes[t.address];
    if (code !== undefined) throw Object.assign(new Error(code), { code });
    return `socket to ${t.address}`;
  };
  return { open, tried };
}

describe('interleaveFamilies (RFC 8305 §4)', () => {
  it('alternates families, the preferred first, each keeping its order', () => {
    const list = [v6a, v6b, v4a, v4b, v4c];
    expect(interleaveFamilies(list, 6)).toEqual([v6a, v4a, v6b, v4b, v4c]);
    expect(interleaveFamilies(list, 4)).toEqual([v4a, v6a, v4b, v6b, v4c]);
    expect(interleaveFamilies([v4a, v4b], 6)).toEqual([v4a, v4b]);
  });
});

describe('openFirstReachable', () => {
  it('the first address that opens wins; nothing after it is tried', async () => {
    const o = opener({});
    const r = await openFirstReachable([v6a, v4a], 53, o.open);
    expect(r).toMatchObject({ ok: true, value: 'socket to 2001:db8::1', failed: [] });
    expect(o.tried).toEqual(['2001:db8::1']);
  });

  it.each(['ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'EAFNOSUPPORT'])(
    'IPv6 failing with %s falls back to IPv4',
    async (code) => {
      const o = opener({ '2001:db8::1': code });
      const r = await openFirstReachable(interleaveFamilies([v6a, v6b, v4a], 6), 53, o.open);
      expect(r).toMatchObject({
        ok: true,
        value: 'socket to 192.0.2.1',
        target: { address: '192.0.2.1', family: 4, port: 53 },
      });
      expect(o.tried).toEqual(['2001:db8::1', '192.0.2.1']);
      expect(describeAttempts(r.failed)).toEqual([`[2001:db8::1]:53 ${code}`]);
    },
  );

  it('an error no other address would cure (EMFILE) stops the attempts', async () => {
    const o = opener({ '2001:db8::1': 'EMFILE' });
    const r = await openFirstReachable([v6a, v4a], 53, o.open);
    expect(r.ok).toBe(false);
    expect(o.tried).toEqual(['2001:db8::1']);
    expect(describeAttempts(r.failed)).toEqual(['[2001:db8::1]:53 EMFILE']);
  });

  it('every address failing: not ok, each attempt listed', async () => {
    const o = opener({ '2001:db8::1': 'ENETUNREACH', '192.0.2.1': 'EHOSTUNREACH' });
    const r = await openFirstReachable([v6a, v4a], 443, o.open);
    expect(r.ok).toBe(false);
    expect(describeAttempts(r.failed)).toEqual([
      '[2001:db8::1]:443 ENETUNREACH',
      '192.0.2.1:443 EHOSTUNREACH',
    ]);
  });
});
