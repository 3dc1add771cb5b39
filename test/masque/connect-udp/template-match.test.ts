import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expandRequest,
  MAX_MATCH_PATH_LENGTH,
  matchTemplate,
  parseTemplate,
  percentDecode,
} from '../../../src/masque/connect-udp/index.js';

const PATH_FORM = 'https://proxy.example/.well-known/masque/udp/{target_host}/{target_port}/';
const QUERY_FORM = 'https://proxy.example/masque{?target_host,target_port}';
const LITERAL_QUERY = 'https://proxy.example.org:4443/masque?h={target_host}&p={target_port}';
const lenient = { lenientOperators: true };

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
const dnsName = fc
  .tuple(fc.array(label, { maxLength: 3 }), fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/))
  .map(([ls, tld]) => [...ls, tld].join('.'));
const ipv4 = fc.ipV4();
const ipv6 = fc.ipV6().filter((a) => !a.includes('%'));
const host = fc.oneof(dnsName, ipv4, ipv6);
const port = fc.integer({ min: 1, max: 65535 });

describe('matchTemplate', () => {
  it('matches the RFC 9298 §3.4 example path', () => {
    const m = matchTemplate(PATH_FORM, '/.well-known/masque/udp/192.0.2.6/443/');
    expect(m?.target_host).toBe('192.0.2.6');
    expect(m?.target_port).toBe('443');
  });

  it('decodes percent-encoded IPv6 colons (RFC 9298 §3.1 "decodes their percent-encoding")', () => {
    const m = matchTemplate(PATH_FORM, '/.well-known/masque/udp/2001%3adb8%3A%3A42/443/');
    expect(m?.target_host).toBe('2001:db8::42');
  });

  it.each([
    ['/.well-known/masque/udp/192.0.2.6/443', 'missing trailing slash'],
    ['/.well-known/masque/udp/192.0.2.6/443/x', 'extra segment'],
    ['/.well-known/masque/udp/a/b/443/', 'slash inside a simple variable'],
    ['/.well-known/masque/udp/192.0.2.6/443/?x=1', 'query on a template without one'],
    ['/.well-known/masque/tcp/192.0.2.6/443/', 'different literal'],
    ['/.well-known/masque/udp/a%zz/443/', 'malformed percent-encoding'],
    ['/.well-known/masque/udp/a+b/443/', 'reserved character in a simple variable'],
    ['/.well-known/masque/udp/192.0.2.6/443/#f', 'fragment'],
  ])('rejects %s (%s)', (path) => {
    expect(matchTemplate(PATH_FORM, path)).toBeNull();
  });

  it('matches query parameters in any order, with unrelated parameters present', () => {
    for (const path of [
      '/masque?target_host=a.example&target_port=53',
      '/masque?target_port=53&target_host=a.example',
      '/masque?x=1&target_port=53&y&target_host=a.example',
    ]) {
      const m = matchTemplate(QUERY_FORM, path);
      expect(m?.target_host).toBe('a.example');
      expect(m?.target_port).toBe('53');
    }
    const m = matchTemplate(LITERAL_QUERY, '/masque?p=53&h=2001%3Adb8%3A%3A42');
    expect(m?.target_host).toBe('2001:db8::42');
    expect(m?.target_port).toBe('53');
  });

  it('reports absent form-style variables as undefined (the caller answers 400)', () => {
    const m = matchTemplate(QUERY_FORM, '/masque?target_port=53');
    expect(m).not.toBeNull();
    expect(m?.target_host).toBeUndefined();
    expect(matchTemplate(QUERY_FORM, '/masque')?.target_port).toBeUndefined();
    expect(matchTemplate(QUERY_FORM, '/masque?target_host=&target_port=1')?.target_host).toBe('');
  });

  it.each([
    [QUERY_FORM, '/masque?target_host=a&target_host=b&target_port=1', 'duplicate parameter'],
    [QUERY_FORM, '/masque?target_host&target_port=1', 'form parameter without "="'],
    [QUERY_FORM, '/masquerade?target_host=a&target_port=1', 'different path'],
    [QUERY_FORM, '/masque?target_host=a:b&target_port=1', 'reserved character in a value'],
    [LITERAL_QUERY, '/masque?h=a.example', 'required literal parameter missing'],
    [LITERAL_QUERY, '/masque?h=a&p=1&p=2', 'duplicate literal parameter'],
  ])('rejects %s %s (%s)', (t, path) => {
    expect(matchTemplate(t, path)).toBeNull();
  });

  it('checks literal query values and literal parameters without a value', () => {
    const t = 'https://p.example/m?v=1&flag&h={target_host}&p=x{target_port}';
    expect(matchTemplate(t, '/m?flag&p=x53&h=h.example&v=1')?.target_port).toBe('53');
    expect(matchTemplate(t, '/m?flag&p=x53&h=h.example&v=2')).toBeNull();
    expect(matchTemplate(t, '/m?flag=1&p=x53&h=h.example&v=1')).toBeNull();
    expect(matchTemplate(t, '/m?p=x53&h=h.example&v=1')).toBeNull();
  });

  it('requires repeated variables to agree', () => {
    const t = 'https://p.example/{target_host}/{target_port}/{target_host}';
    expect(matchTemplate(t, '/a/1/a')?.target_host).toBe('a');
    expect(matchTemplate(t, '/a/1/b')).toBeNull();
  });

  it('supports level 3 operators of lenient templates', () => {
    const seg = parseTemplate('https://p.example/x{/target_host,target_port}/', lenient);
    expect(matchTemplate(seg, '/x/h.example/53/')?.target_port).toBe('53');
    expect(matchTemplate(seg, '/x/h.example/')?.target_port).toBeUndefined();
    const dot = parseTemplate('https://p.example/x/{target_port}/h{.target_host}', lenient);
    expect(matchTemplate(dot, '/x/53/h.a.example')?.target_host).toBe('a.example');
    const semi = parseTemplate('https://p.example/x{;target_host,target_port}', lenient);
    expect(matchTemplate(semi, '/x;target_host=a;target_port=9')?.target_port).toBe('9');
    expect(matchTemplate(semi, '/x;other=a;target_port=9')).toBeNull();
    const plus = parseTemplate('https://p.example/{+target_host}/{target_port}', lenient);
    expect(matchTemplate(plus, '/2001:db8::1/53')?.target_host).toBe('2001:db8::1');
    const amp = parseTemplate('https://p.example/m?a=1{&target_host,target_port}', lenient);
    expect(matchTemplate(amp, '/m?target_port=2&a=1&target_host=h')?.target_host).toBe('h');
  });

  it('falls back to exact matching for queries that do not split into parameters', () => {
    const t = parseTemplate('https://p.example/m?{target_host}/{target_port}', lenient);
    expect(matchTemplate(t, '/m?h.example/53')?.target_port).toBe('53');
    expect(matchTemplate(t, '/m?53/h.example')?.target_port).toBe('h.example');
    expect(matchTemplate(t, '/m?a=1&h.example/53')).toBeNull();
  });

  it('rejects over-long paths', () => {
    const long = `/.well-known/masque/udp/${'a'.repeat(MAX_MATCH_PATH_LENGTH)}/1/`;
    expect(matchTemplate(PATH_FORM, long)).toBeNull();
  });

  it('percentDecode decodes bytes and leaves other text alone', () => {
    expect(percentDecode('a%3Ab%3a%25%zz')).toBe('a:b:%%zz');
  });
});

describe('matchTemplate(expandRequest(t, h, p)) gives back h and p', () => {
  const templates = [
    parseTemplate(PATH_FORM),
    parseTemplate(QUERY_FORM),
    parseTemplate(LITERAL_QUERY),
    parseTemplate('https://p.example/u/{target_port}/x{?target_host}&z=1'),
    parseTemplate('https://p.example/u/{target_host},{target_port}'),
    parseTemplate('https://p.example/x{/target_host,target_port}/', lenient),
    parseTemplate('https://p.example/{+target_host}/{target_port}', lenient),
    parseTemplate('https://p.example/x{;target_port,target_host}', lenient),
  ];
  for (const t of templates) {
    it(t.raw, () => {
      fc.assert(
        fc.property(host, port, (h, p) => {
          const req = expandRequest(t, h, p);
          const m = matchTemplate(t, req.path);
          expect(m?.target_host).toBe(h);
          expect(m?.target_port).toBe(String(p));
        }),
        { numRuns: 2000 },
      );
    });
  }
});

describe('matching arbitrary input never throws', () => {
  const templates = [
    parseTemplate(PATH_FORM),
    parseTemplate(QUERY_FORM),
    parseTemplate(LITERAL_QUERY),
    parseTemplate('https://p.example/{target_host}{target_port}/{x}'),
    parseTemplate('https://p.example/x{/target_host,target_port,a,b}{.c,d}/{;e,f}', lenient),
  ];
  const pathChar = fc.constantFrom(...'/?&=;.,%:+#-_~aZ09'.split(''), '%3A', '%zz', 'target_host=');
  it('returns a match or null for random paths', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...templates),
        fc.array(pathChar, { maxLength: 60 }).map((cs) => `/${cs.join('')}`),
        (t, path) => {
          const m = matchTemplate(t, path);
          expect(m === null || m.variables instanceof Map).toBe(true);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('bounds the regular-expression work on adversarial input (counted, not timed)', () => {
    // Counts regular-expression executions during `fn` (RegExp.prototype.test, String#match and
    // #replace all go through `exec`).
    const regexRuns = (fn: () => void): number => {
      const exec = RegExp.prototype.exec;
      let runs = 0;
      RegExp.prototype.exec = function (this: RegExp, s: string) {
        runs++;
        return exec.call(this, s);
      };
      try {
        fn();
      } finally {
        RegExp.prototype.exec = exec;
      }
      return runs;
    };
    const t = templates[3];
    const t2 = templates[4];
    // [template, path of n units, whether it matches]: long runs of what one expression accepts,
    // next to another expression accepting the same, ending in a mismatch that makes a
    // backtracking engine try every split.
    const shapes: Array<[(typeof templates)[number], (n: number) => string, boolean]> = [
      [t, (n) => `/${'a'.repeat(n)}/`, true],
      [t, (n) => `/${'a'.repeat(n)}`, false],
      [t2, (n) => `/x${'/a'.repeat(n)}.${'.a'.repeat(n)}!`, false],
    ];
    for (const [tpl, path] of shapes) matchTemplate(tpl, path(1)); // compiles and caches
    for (const [tpl, path, matches] of shapes) {
      const runsPerCall = new Set<number>();
      for (let n = 100; n <= 4000; n *= 2) {
        const p = path(n);
        let m: ReturnType<typeof matchTemplate> = null;
        const runs = regexRuns(() => {
          m = matchTemplate(tpl, p);
        });
        if (p.length > MAX_MATCH_PATH_LENGTH) {
          // Over-long paths are refused before any regular expression runs.
          expect(runs, `${p.length} chars`).toBe(0);
          expect(m).toBeNull();
        } else {
          expect(runs).toBeGreaterThan(0);
          runsPerCall.add(runs);
          expect(m !== null, `${p.length} chars`).toBe(matches);
        }
      }
      // The same few expression runs whatever the length (no per-character retries); each run
      // is over an input the length cap bounds.
      expect(runsPerCall.size, tpl.raw).toBe(1);
      expect([...runsPerCall][0]).toBeLessThanOrEqual(4);
    }
  });
});
