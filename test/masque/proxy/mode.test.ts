import { describe, expect, it } from 'vitest';
import { chooseMode, type RelayMode, requestedMode } from '../../../src/masque/proxy/mode.js';

const PLAIN = new Set<RelayMode>(['plain']);
const ALL = new Set<RelayMode>(['plain', 'bind', 'quic-aware']);
const FWD = ['proxy-quic-forwarding', '?1; accept-transform="scramble-dt,identity"'] as const;

describe('requestedMode: the mode header fields', () => {
  it('reads Connect-UDP-Bind ?1 and a valid Proxy-QUIC-Forwarding', () => {
    expect(requestedMode([])).toEqual({ bind: false, quic: undefined, portSharing: false });
    expect(requestedMode([['proxy-quic-port-sharing', '?1']]).portSharing).toBe(true);
    expect(requestedMode([['proxy-quic-port-sharing', '1']]).portSharing).toBe(false);
    expect(requestedMode([['connect-udp-bind', '?1']]).bind).toBe(true);
    expect(requestedMode([['Connect-UDP-Bind', '?1']]).bind).toBe(true);
    expect(requestedMode([FWD]).quic).toMatchObject({
      enabled: true,
      acceptTransforms: ['scramble-dt', 'identity'],
    });
    expect(requestedMode([['proxy-quic-forwarding', '?0']]).quic).toEqual({ enabled: false });
  });

  it('treats malformed values as absent (both drafts say so)', () => {
    // connect-udp-listen §4: "Any other value type MUST be handled as if the field were not
    // present" (two field lines make a List).
    for (const h of [
      [['connect-udp-bind', '?0']],
      [['connect-udp-bind', '1']],
      [
        ['connect-udp-bind', '?1'],
        ['connect-udp-bind', '?1'],
      ],
    ] as Array<Array<[string, string]>>) {
      expect(requestedMode(h).bind).toBe(false);
    }
    // quic-proxy §3: ?1 without accept-transform "MUST ignore the header".
    expect(requestedMode([['proxy-quic-forwarding', '?1']]).quic).toBeUndefined();
    expect(requestedMode([['proxy-quic-forwarding', 'yes']]).quic).toBeUndefined();
  });
});

describe('chooseMode', () => {
  const none = { bind: false, quic: undefined };
  const bind = { bind: true, quic: undefined };
  const quic = requestedMode([FWD]);

  it('serves each mode by its strategy when offered', () => {
    expect(chooseMode(none, false, ALL)).toEqual({ ok: true, mode: 'plain', fellBack: false });
    expect(chooseMode(bind, false, ALL)).toEqual({ ok: true, mode: 'bind', fellBack: false });
    expect(chooseMode(bind, true, ALL)).toEqual({ ok: true, mode: 'bind', fellBack: false });
    expect(chooseMode(quic, false, ALL)).toMatchObject({
      ok: true,
      mode: 'quic-aware',
      quic: quic.quic,
    });
  });

  it('falls back to plain where the drafts let a proxy without the extension do so', () => {
    expect(chooseMode(bind, false, PLAIN)).toEqual({ ok: true, mode: 'plain', fellBack: true });
    expect(chooseMode(quic, false, PLAIN)).toEqual({ ok: true, mode: 'plain', fellBack: true });
  });

  it("refuses bind to '*' without bind (501) and '*' without Connect-UDP-Bind (400)", () => {
    expect(chooseMode(bind, true, PLAIN)).toEqual({
      ok: false,
      status: 501,
      reason: 'BIND_NOT_OFFERED',
    });
    expect(chooseMode(none, true, ALL)).toMatchObject({ ok: false, status: 400 });
    expect(chooseMode(quic, true, ALL)).toMatchObject({ ok: false, status: 400 });
  });

  it('serves a request with both headers as bind (our reading; drafts/connect-udp-listen.md)', () => {
    expect(chooseMode({ bind: true, quic: quic.quic }, false, ALL)).toEqual({
      ok: true,
      mode: 'bind',
      fellBack: false,
    });
  });
});
