import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { H3Error, H3ErrorCode } from '../../../src/http3/errors.js';
import {
  fieldSectionSize,
  lowercaseNames,
  validateRequestHeaders,
  validateResponseHeaders,
  validateTrailers,
} from '../../../src/http3/session/validate.js';

import { type F, GET, MALFORMED_REQUESTS } from './malformed-table.js';

/** The H3Error a validation throws (or undefined when valid). */
function errorOf(fn: () => unknown): H3Error | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof H3Error) return e;
    throw e;
  }
}

describe('validateRequestHeaders', () => {
  it('accepts a plain GET and reports its pseudo-headers', () => {
    const info = validateRequestHeaders(
      [...GET, ['te', 'trailers'], ['content-length', '0']],
      false,
    );
    expect(info).toEqual({
      method: 'GET',
      scheme: 'https',
      authority: 'example.com',
      path: '/',
      protocol: undefined,
      contentLength: 0,
    });
  });

  it.each(MALFORMED_REQUESTS)('%s is a stream error H3_MESSAGE_ERROR', (_name, fields) => {
    const err = errorOf(() => validateRequestHeaders(fields, false));
    expect(err?.code).toBe(H3ErrorCode.H3_MESSAGE_ERROR);
    expect(err?.scope).toBe('stream');
  });

  it('plain CONNECT carries only :method and :authority (§4.4)', () => {
    const info = validateRequestHeaders(
      [
        [':method', 'CONNECT'],
        [':authority', 'h:443'],
      ],
      false,
    );
    expect(info.method).toBe('CONNECT');
    expect(info.path).toBeUndefined();
  });

  it('extended CONNECT needs the setting, :scheme, :path and :authority (RFC 9220 / RFC 8441 §4)', () => {
    const ext: F = [
      [':method', 'CONNECT'],
      [':protocol', 'connect-udp'],
      [':scheme', 'https'],
      [':authority', 'proxy.example'],
      [':path', '/.well-known/masque/udp/192.0.2.1/443/'],
    ];
    expect(validateRequestHeaders(ext, true).protocol).toBe('connect-udp');
    expect(errorOf(() => validateRequestHeaders(ext, false))?.code).toBe(0x10e);
    for (const drop of [':scheme', ':path', ':authority']) {
      const fields = ext.filter(([n]) => n !== drop);
      expect(errorOf(() => validateRequestHeaders(fields, true))?.code, drop).toBe(0x10e);
    }
    const notConnect: F = ext.map(([n, v]) => [n, n === ':method' ? 'GET' : v]);
    expect(errorOf(() => validateRequestHeaders(notConnect, true))?.code).toBe(0x10e);
  });

  it('accepts identical repeated content-length values and a matching host', () => {
    const info = validateRequestHeaders(
      [...GET, ['content-length', '5, 5'], ['host', 'example.com']],
      false,
    );
    expect(info.contentLength).toBe(5);
  });

  it('a non-http scheme needs no authority', () => {
    const info = validateRequestHeaders(
      [
        [':method', 'GET'],
        [':scheme', 'foo'],
        [':path', 'x'],
      ],
      false,
    );
    expect(info.authority).toBeUndefined();
  });
});

describe('validateResponseHeaders', () => {
  it('reads :status and content-length', () => {
    expect(
      validateResponseHeaders([
        [':status', '204'],
        ['content-length', '10'],
      ]),
    ).toEqual({
      status: 204,
      contentLength: 10,
    });
  });

  it.each<[string, F]>([
    ['missing :status', [['server', 'x']]],
    [
      'duplicate :status',
      [
        [':status', '200'],
        [':status', '200'],
      ],
    ],
    ['non-numeric :status', [[':status', '2x0']]],
    ['two-digit :status', [[':status', '20']]],
    ['status 600', [[':status', '600']]],
    ['status 101', [[':status', '101']]],
    [
      'request pseudo-header',
      [
        [':status', '200'],
        [':path', '/'],
      ],
    ],
    [
      'pseudo after regular',
      [
        ['server', 'x'],
        [':status', '200'],
      ],
    ],
    [
      'te in a response',
      [
        [':status', '200'],
        ['te', 'trailers'],
      ],
    ],
    [
      'uppercase name',
      [
        [':status', '200'],
        ['Server', 'x'],
      ],
    ],
  ])('%s is malformed', (_n, fields) => {
    expect(errorOf(() => validateResponseHeaders(fields))?.code).toBe(H3ErrorCode.H3_MESSAGE_ERROR);
  });
});

describe('validateTrailers', () => {
  it('refuses pseudo-headers and connection-specific fields, accepts the rest', () => {
    expect(errorOf(() => validateTrailers([['x-checksum', 'abc']]))).toBeUndefined();
    expect(errorOf(() => validateTrailers([[':status', '200']]))?.code).toBe(0x10e);
    expect(errorOf(() => validateTrailers([['connection', 'close']]))?.code).toBe(0x10e);
  });
});

describe('helpers', () => {
  it('fieldSectionSize counts name + value + 32 per field (§4.2.2)', () => {
    expect(
      fieldSectionSize([
        ['ab', 'cde'],
        ['f', ''],
      ]),
    ).toBe(2 + 3 + 32 + 1 + 32);
  });

  it('lowercaseNames lowercases names only and keeps the array when nothing changes', () => {
    const same: F = [['a', 'B']];
    expect(lowercaseNames(same)).toBe(same);
    expect(lowercaseNames([['Content-Type', 'Text/HTML']])).toEqual([
      ['content-type', 'Text/HTML'],
    ]);
  });
});

describe('properties', () => {
  const field = fc.tuple(
    fc.oneof(
      fc.constantFrom(':method', ':scheme', ':authority', ':path', ':protocol', ':status', 'host'),
      fc.constantFrom('te', 'content-length', 'connection', 'x-a', 'X-B'),
      fc.string({ maxLength: 6 }),
    ),
    fc.oneof(
      fc.constantFrom('GET', 'CONNECT', 'https', '/', '200', 'trailers', '5'),
      fc.string({ maxLength: 6 }),
    ),
  );

  it('any section either validates or throws a stream-scoped H3_MESSAGE_ERROR', () => {
    fc.assert(
      fc.property(fc.array(field, { maxLength: 8 }), fc.boolean(), (fields, ext) => {
        for (const fn of [
          () => validateRequestHeaders(fields, ext),
          () => validateResponseHeaders(fields),
          () => validateTrailers(fields),
        ]) {
          const err = errorOf(fn);
          if (err !== undefined) {
            expect(err.code).toBe(H3ErrorCode.H3_MESSAGE_ERROR);
            expect(err.scope).toBe('stream');
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('a valid request stays valid with regular fields appended, invalid with one moved first', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), fc.stringMatching(/^[ -~]{0,8}$/)),
          { maxLength: 5 },
        ),
        (extra) => {
          const fields = [
            ...GET,
            ...extra.filter(
              ([n]) =>
                ![
                  'connection',
                  'keep-alive',
                  'te',
                  'upgrade',
                  'host',
                  'content-length',
                  'transfer-encoding',
                  'proxy-connection',
                ].includes(n),
            ),
          ] as F;
          expect(errorOf(() => validateRequestHeaders(fields, false))).toBeUndefined();
          if (fields.length > GET.length) {
            const moved = [fields[fields.length - 1], ...fields.slice(0, -1)] as F;
            expect(errorOf(() => validateRequestHeaders(moved, false))?.code).toBe(0x10e);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
