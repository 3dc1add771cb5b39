import { describe, expect, it } from 'vitest';
import {
  ConnectUdpError,
  defaultTemplate,
  expandRequest,
  expandTemplate,
  expandWildcardRequest,
  parseTemplate,
} from '../../../src/masque/connect-udp/index.js';

const DEFAULT = 'https://example.org/.well-known/masque/udp/{target_host}/{target_port}/';

describe('parseTemplate: RFC 9298 §2 examples', () => {
  it.each([
    DEFAULT,
    'https://proxy.example.org:4443/masque?h={target_host}&p={target_port}',
    'https://proxy.example.org:4443/masque{?target_host,target_port}',
  ])('accepts %s', (raw) => {
    const t = parseTemplate(raw);
    expect(t.scheme).toBe('https');
    expect(t.variables).toEqual(['target_host', 'target_port']);
  });

  it('splits scheme, authority and parts', () => {
    const t = parseTemplate('https://proxy.example.org:4443/masque{?target_host,target_port}');
    expect(t.authority).toBe('proxy.example.org:4443');
    expect(t.parts).toEqual([
      { kind: 'literal', text: '/masque' },
      {
        kind: 'expression',
        operator: '?',
        variables: ['target_host', 'target_port'],
        text: '{?target_host,target_port}',
      },
    ]);
    expect(t.fragment).toBeUndefined();
  });

  it('allows other variables ("MAY contain other variables"), a literal fragment and {&...}', () => {
    const t = parseTemplate('https://p.example/u/{target_host}{?target_port}{&extra}#frag');
    expect(t.variables).toEqual(['target_host', 'target_port', 'extra']);
    expect(t.fragment).toBe('frag');
  });

  it('accepts an IPv6 literal authority and the HTTPS scheme in upper case', () => {
    const t = parseTemplate('HTTPS://[2001:db8::1]:443/{target_host}/{target_port}');
    expect(t.authority).toBe('[2001:db8::1]:443');
    expect(t.scheme).toBe('https');
  });
});

describe('parseTemplate rejects (one message per requirement)', () => {
  it.each([
    ['https://p.example/{target_host}/{target_port}/\u00e9', /only ASCII 0x21-0x7E/],
    ['https://p.example/{target_host}/ {target_port}', /U\+0020.*only ASCII/],
    ['/masque/{target_host}/{target_port}', /missing scheme/],
    ['http://p.example/{target_host}/{target_port}', /scheme must be "https"/],
    ['https:p.example/{target_host}/{target_port}', /missing authority/],
    ['https:///{target_host}/{target_port}', /authority is empty/],
    ['https://{target_host}/{target_port}', /within the path or query/],
    ['https://user@p.example/{target_host}/{target_port}', /userinfo/],
    ['https://p.example:99999/{target_host}/{target_port}', /not in 1\.\.65535/],
    ['https://p.ex ample/{target_host}/{target_port}', /only ASCII/],
    ['https://p.example', /path component MUST be non-empty/],
    ['https://p.example?{target_host,target_port}', /path component MUST be non-empty/],
    ['https://p.example/{target_host}', /"target_port" is missing/],
    ['https://p.example/{target_port}', /"target_host" is missing/],
    ['https://p.example/{target_host}/{target_port:3}', /level 4 modifier/],
    ['https://p.example/{target_host*}/{target_port}', /level 4 modifier/],
    ['https://p.example/{+target_host}/{target_port}', /Reserved Expansion/],
    ['https://p.example/x{#target_host,target_port}', /Fragment Expansion/],
    ['https://p.example/x{.target_host}/{target_port}', /Label Expansion/],
    ['https://p.example/x{/target_host,target_port}', /Path Segment Expansion/],
    ['https://p.example/x{;target_host,target_port}', /Path-Style Parameter Expansion/],
    ['https://p.example/x{=target_host}/{target_port}', /reserved \(RFC 6570/],
    ['https://p.example/x{target_host/{target_port}', /nested "\{"/],
    ['https://p.example/x/{target_port}/{target_host', /unterminated expression/],
    ['https://p.example/x}/{target_port}/{target_host}', /unmatched "\}"/],
    ['https://p.example/x/{}/{target_host}/{target_port}', /empty expression/],
    ['https://p.example/x/{target-host}/{target_port}', /invalid variable name/],
    ['https://p.example/x%zz/{target_host}/{target_port}', /two hex digits/],
    ['https://p.example/x|y/{target_host}/{target_port}', /not allowed in a literal/],
    ['https://p.example/{target_host}/{target_port}#{x}', /within the path or query/],
  ])('%s', (raw, message) => {
    let caught: unknown;
    try {
      parseTemplate(raw);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConnectUdpError);
    expect((caught as ConnectUdpError).code).toBe('TEMPLATE_INVALID');
    expect((caught as Error).message).toMatch(message);
  });

  it('lenientOperators admits + . / ; but never #', () => {
    const o = { lenientOperators: true };
    expect(() => parseTemplate('https://p.example/x{/target_host,target_port}', o)).not.toThrow();
    expect(() => parseTemplate('https://p.example/{+target_host}/{target_port}', o)).not.toThrow();
    expect(() => parseTemplate('https://p.example/x{#target_host,target_port}', o)).toThrow(
      /Fragment Expansion/,
    );
  });
});

describe('expansion (client side)', () => {
  // RFC 9298 §3.4 (Figure 4): template DEFAULT, target 192.0.2.6:443.
  it('reproduces the RFC 9298 §3.4 request example', () => {
    expect(expandRequest(DEFAULT, '192.0.2.6', 443)).toEqual({
      scheme: 'https',
      authority: 'example.org',
      path: '/.well-known/masque/udp/192.0.2.6/443/',
    });
    expect(expandTemplate(DEFAULT, '192.0.2.6', 443)).toBe(
      'https://example.org/.well-known/masque/udp/192.0.2.6/443/',
    );
  });

  // RFC 9298 §3: "if the target host is "2001:db8::42", it will be encoded in the URI as
  // "2001%3Adb8%3A%3A42"".
  it('percent-encodes IPv6 colons as RFC 9298 §3 shows', () => {
    expect(expandRequest(DEFAULT, '2001:db8::42', 443).path).toBe(
      '/.well-known/masque/udp/2001%3Adb8%3A%3A42/443/',
    );
    expect(expandRequest(DEFAULT, '[2001:db8::42]', 443).path).toBe(
      '/.well-known/masque/udp/2001%3Adb8%3A%3A42/443/',
    );
    const lenient = parseTemplate('https://p.example/{+target_host}/{target_port}', {
      lenientOperators: true,
    });
    expect(expandRequest(lenient, '2001:db8::42', 53).path).toBe('/2001%3Adb8%3A%3A42/53');
  });

  // connect-udp-listen §2: '*' in both variables "MUST be percent-encoded before sending".
  it("expands a bind request without a target as '*' percent-encoded (%2A)", () => {
    expect(expandWildcardRequest(DEFAULT).path).toBe('/.well-known/masque/udp/%2A/%2A/');
    expect(expandWildcardRequest('https://p.example/masque{?target_host,target_port}').path).toBe(
      '/masque?target_host=%2A&target_port=%2A',
    );
    const lenient = parseTemplate('https://p.example/{+target_host}/{+target_port}', {
      lenientOperators: true,
    });
    expect(expandWildcardRequest(lenient).path).toBe('/%2A/%2A');
  });

  it('expands the query forms of §2', () => {
    expect(
      expandRequest(
        'https://proxy.example.org:4443/masque?h={target_host}&p={target_port}',
        'example.com',
        53,
      ).path,
    ).toBe('/masque?h=example.com&p=53');
    expect(
      expandTemplate(
        'https://proxy.example.org:4443/masque{?target_host,target_port}',
        '::1',
        '53',
      ),
    ).toBe('https://proxy.example.org:4443/masque?target_host=%3A%3A1&target_port=53');
  });

  it('expands other variables when given, omits them otherwise, keeps the fragment', () => {
    const t = 'https://p.example/u/{target_host}{?target_port}{&extra}#frag';
    expect(expandTemplate(t, 'a.example', 1)).toBe(
      'https://p.example/u/a.example?target_port=1#frag',
    );
    expect(expandRequest(t, 'a.example', 1, { extra: 'x y' }).path).toBe(
      '/u/a.example?target_port=1&extra=x%20y',
    );
  });

  it('refuses invalid targets', () => {
    expect(() => expandRequest(DEFAULT, 'fe80::1%eth0', 443)).toThrow(/zone/);
    expect(() => expandRequest(DEFAULT, 'example.com', 0)).toThrow(/between 1 and 65535/);
    expect(() => expandRequest(DEFAULT, '', 1)).toThrow(/MUST NOT be empty/);
  });

  it('builds the default template from an authority', () => {
    expect(defaultTemplate('proxy.example:4433')).toBe(
      'https://proxy.example:4433/.well-known/masque/udp/{target_host}/{target_port}/',
    );
    expect(() => defaultTemplate('bad authority')).toThrow(ConnectUdpError);
  });
});
