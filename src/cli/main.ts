/**
 * The `masque` command. The proxy itself arrives with the connect-udp issue; until then this
 * prints what the package offers so that `npm start` says something true.
 */
const lines = [
  'masque 0.1.0: MASQUE proxy and client SDK (work in progress)',
  '',
  'Available now: the wire codecs every layer builds on (QUIC packets, frames, transport',
  'parameters, packet protection, TLS 1.3 messages, HTTP/3 frames, QPACK, capsules, HTTP',
  'datagrams, MASQUE header fields) and the forwarded-mode packet transforms.',
  '',
  'Not yet available: the QUIC connection, the HTTP/3 server and the connect-udp proxy.',
  'Run `npm test` to check the codecs and `npm run bench` for the scramble transform cost.',
];
process.stdout.write(`${lines.join('\n')}\n`);
