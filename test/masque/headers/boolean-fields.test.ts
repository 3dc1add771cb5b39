import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCapsuleProtocol, parseCapsuleProtocol } from '../../../src/capsule/header.js';
import type { FieldValue, HeaderResult } from '../../../src/fields/result.js';
import {
  formatConnectUdpBind,
  parseConnectUdpBind,
} from '../../../src/masque/headers/connect-udp-bind.js';
import {
  formatProxyQuicPortSharing,
  parseProxyQuicPortSharing,
} from '../../../src/masque/headers/proxy-quic-port-sharing.js';
import { fieldValue } from './arbitraries.js';

const FIELDS: Array<[string, (v: FieldValue) => HeaderResult<boolean>, (v: boolean) => string]> = [
  ['Capsule-Protocol (RFC 9297 §3.4)', parseCapsuleProtocol, formatCapsuleProtocol],
  ['Connect-UDP-Bind (connect-udp-listen)', parseConnectUdpBind, formatConnectUdpBind],
  ['Proxy-QUIC-Port-Sharing (quic-proxy)', parseProxyQuicPortSharing, formatProxyQuicPortSharing],
];

for (const [name, parse, format] of FIELDS) {
  describe(name, () => {
    it('reads the spec examples and absence', () => {
      expect(parse('?1')).toEqual({ ok: true, value: true });
      expect(parse('?0')).toEqual({ ok: true, value: false });
      expect(parse(' ?1 ')).toEqual({ ok: true, value: true });
      expect(parse(['?1'])).toEqual({ ok: true, value: true });
      // Absent, and false, mean "not in use".
      expect(parse(undefined)).toEqual({ ok: true, value: false });
      expect(parse([])).toEqual({ ok: true, value: false });
    });

    it('ignores parameters ("Receivers MUST ignore unknown parameters")', () => {
      expect(parse('?1;foo=bar;baz')).toEqual({ ok: true, value: true });
      expect(parse('?0; x=:AAAA:')).toEqual({ ok: true, value: false });
    });

    it('any other type is reported (handled as if the field were not present)', () => {
      for (const bad of ['1', '"?1"', 'true', '?2', '', ':AQ==:', '?1 ?1', '(?1)', '@1']) {
        expect(parse(bad).ok, bad).toBe(false);
      }
      // Several field lines make a List: "the field will therefore be ignored".
      expect(parse(['?1', '?1']).ok).toBe(false);
    });

    it('format -> parse is the identity', () => {
      fc.assert(
        fc.property(fc.boolean(), (b) => {
          expect(parse(format(b))).toEqual({ ok: true, value: b });
        }),
        { numRuns: 100 },
      );
      expect(format(true)).toBe('?1');
      expect(format(false)).toBe('?0');
    });

    it('never throws on arbitrary input', () => {
      fc.assert(
        fc.property(fieldValue, (v) => {
          const r = parse(v);
          expect(typeof r.ok).toBe('boolean');
        }),
        { numRuns: 3000 },
      );
    });
  });
}
