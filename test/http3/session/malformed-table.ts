/** Header sections every HTTP/3 recipient must treat as malformed (shared by several tests). */

export type F = Array<[string, string]>;

export const GET: F = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':authority', 'example.com'],
  [':path', '/'],
];

/** Malformed requests (RFC 9114 §4.1.2, §4.2, §4.3.1, §4.4; RFC 8441 §4). */
export const MALFORMED_REQUESTS: Array<[string, F]> = [
  ['missing :method', GET.filter(([n]) => n !== ':method')],
  ['missing :scheme', GET.filter(([n]) => n !== ':scheme')],
  ['missing :path', GET.filter(([n]) => n !== ':path')],
  ['empty :path', [...GET.slice(0, 3), [':path', '']]],
  ['duplicate :method', [[':method', 'GET'], ...GET]],
  ['duplicate :path', [...GET, [':path', '/x']]],
  ['pseudo-header after a regular field', [...GET.slice(0, 3), ['accept', '*/*'], [':path', '/']]],
  ['unknown pseudo-header', [...GET, [':foo', 'bar']]],
  ['response pseudo-header in a request', [...GET, [':status', '200']]],
  ['uppercase field name', [...GET, ['Accept', '*/*']]],
  ['space in a field name', [...GET, ['x y', '1']]],
  ['empty field name', [...GET, ['', '1']]],
  ['CR in a value', [...GET, ['x', 'a\rb']]],
  ['LF in a value', [...GET, ['x', 'a\nb']]],
  ['NUL in a value', [...GET, ['x', 'a\u0000b']]],
  ['connection header', [...GET, ['connection', 'close']]],
  ['keep-alive header', [...GET, ['keep-alive', '5']]],
  ['proxy-connection header', [...GET, ['proxy-connection', 'x']]],
  ['transfer-encoding header', [...GET, ['transfer-encoding', 'chunked']]],
  ['upgrade header', [...GET, ['upgrade', 'websocket']]],
  ['te other than trailers', [...GET, ['te', 'gzip']]],
  ['non-numeric content-length', [...GET, ['content-length', '12a']]],
  ['conflicting content-length', [...GET, ['content-length', '1'], ['content-length', '2']]],
  ['conflicting content-length list', [...GET, ['content-length', '3, 4']]],
  ['no :authority and no host for https', GET.filter(([n]) => n !== ':authority')],
  ['host differs from :authority', [...GET, ['host', 'other.example']]],
  [
    'userinfo in :authority',
    [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':authority', 'u@h'],
      [':path', '/'],
    ],
  ],
  [
    'CONNECT with :path',
    [
      [':method', 'CONNECT'],
      [':authority', 'h:443'],
      [':path', '/'],
    ],
  ],
  [
    'CONNECT with :scheme',
    [
      [':method', 'CONNECT'],
      [':authority', 'h:443'],
      [':scheme', 'https'],
    ],
  ],
  ['CONNECT without :authority', [[':method', 'CONNECT']]],
  [
    ':protocol when extended CONNECT is not enabled',
    [
      [':method', 'CONNECT'],
      [':protocol', 'connect-udp'],
      [':scheme', 'https'],
      [':authority', 'h'],
      [':path', '/'],
    ],
  ],
];
