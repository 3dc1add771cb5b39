/**
 * RFC 9298 §3.3 for HTTP/1.1 as a pure function: which requests are connect-udp, which are
 * malformed (400), and the extended CONNECT form the handler reads.
 */
import { describe, expect, it } from 'vitest';
import { classifyH1Request, type H1RequestHead } from '../../../src/runtime/h1/h1-request.js';

const head = (over: Partial<H1RequestHead> & { fields?: string[] } = {}): H1RequestHead => ({
  method: 'GET',
  url: '/.well-known/masque/udp/192.0.2.6/443/',
  httpVersion: '1.1',
  rawHeaders: over.fields ?? [
    'Host',
    'example.org',
    'Connection',
    'Upgrade',
    'Upgrade',
    'connect-udp',
    'Capsule-Protocol',
    '?1',
  ],
  ...over,
});

describe('classifyH1Request (RFC 9298 §3.3)', () => {
  it('the RFC example becomes the extended CONNECT form', () => {
    expect(
      classifyH1Request(head({ url: 'https://example.org/.well-known/masque/udp/192.0.2.6/443/' })),
    ).toEqual({
      kind: 'connect-udp',
      headers: [
        [':method', 'CONNECT'],
        [':protocol', 'connect-udp'],
        [':scheme', 'https'],
        [':authority', 'example.org'],
        [':path', '/.well-known/masque/udp/192.0.2.6/443/'],
        ['capsule-protocol', '?1'],
      ],
    });
  });

  it('origin-form takes the authority from Host; other fields follow, lowercased', () => {
    const c = classifyH1Request(
      head({
        fields: [
          'Host',
          'proxy.example:8443',
          'Connection',
          'keep-alive, UPGRADE',
          'Upgrade',
          'h2c, Connect-UDP',
          'Proxy-Authorization',
          'Bearer x',
          'Keep-Alive',
          'timeout=5',
        ],
      }),
    );
    expect(c).toEqual({
      kind: 'connect-udp',
      headers: [
        [':method', 'CONNECT'],
        [':protocol', 'connect-udp'],
        [':scheme', 'https'],
        [':authority', 'proxy.example:8443'],
        [':path', '/.well-known/masque/udp/192.0.2.6/443/'],
        ['proxy-authorization', 'Bearer x'],
      ],
    });
  });

  it('absolute-form: Host is ignored (RFC 9112 §3.2.2), an http scheme is passed on', () => {
    const c = classifyH1Request(head({ url: 'http://other.example/x?y' }));
    expect(c.kind === 'connect-udp' && c.headers.slice(2, 5)).toEqual([
      [':scheme', 'http'],
      [':authority', 'other.example'],
      [':path', '/x?y'],
    ]);
  });

  it.each([
    ['no Upgrade', { fields: ['Host', 'a', 'Connection', 'Upgrade'] }],
    ['another token', { fields: ['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', 'websocket'] }],
    [
      'a versioned token',
      { fields: ['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', 'connect-udp/2'] },
    ],
    ['HTTP/1.0 (RFC 9110 §7.8 MUST ignore Upgrade)', { httpVersion: '1.0' }],
  ])('not connect-udp: %s', (_what, over) => {
    expect(classifyH1Request(head(over as Partial<H1RequestHead>))).toEqual({ kind: 'other' });
  });

  it.each([
    ['POST', { method: 'POST' }, 'H1_METHOD_NOT_GET'],
    ['HEAD', { method: 'HEAD' }, 'H1_METHOD_NOT_GET'],
    [
      'no Connection',
      { fields: ['Host', 'a', 'Upgrade', 'connect-udp'] },
      'H1_CONNECTION_NOT_UPGRADE',
    ],
    [
      'Connection without upgrade',
      { fields: ['Host', 'a', 'Connection', 'keep-alive', 'Upgrade', 'connect-udp'] },
      'H1_CONNECTION_NOT_UPGRADE',
    ],
    ['no Host', { fields: ['Connection', 'Upgrade', 'Upgrade', 'connect-udp'] }, 'H1_HOST_INVALID'],
    [
      'two Hosts',
      { fields: ['Host', 'a', 'Host', 'b', 'Connection', 'Upgrade', 'Upgrade', 'connect-udp'] },
      'H1_HOST_INVALID',
    ],
    [
      'empty Host',
      { fields: ['Host', ' ', 'Connection', 'Upgrade', 'Upgrade', 'connect-udp'] },
      'H1_HOST_INVALID',
    ],
    ['asterisk-form', { url: '*' }, 'H1_TARGET_FORM'],
    ['authority-form', { url: 'example.org:443' }, 'H1_TARGET_FORM'],
  ])('malformed (400): %s', (_what, over, reason) => {
    expect(classifyH1Request(head(over as Partial<H1RequestHead>))).toMatchObject({
      kind: 'malformed',
      reason,
    });
  });
});
