/**
 * The interop kit with code someone else wrote (test/interop/go-connect-udp, on quic-go):
 * (a) `masque interop client` against the Go reference proxy: the connect-udp cases it supports
 *     pass, bind and QUIC-aware are reported unsupported (it offers neither), nothing fails;
 * (b) the Go CONNECT-UDP client against `masque interop server`, through its echo target.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTable, runCases, selectCases } from '../../src/kit/runner.js';
import { type InteropServer, startInteropServer } from '../../src/kit/server.js';
import {
  buildGoConnectUdp,
  DEFAULT_CONNECT_UDP_TEMPLATE,
  type GoConnectUdpServer,
  runGoConnectUdpClient,
  startGoConnectUdpServer,
} from './go-connect-udp.js';

let goProxy: GoConnectUdpServer | undefined;
let ours: InteropServer | undefined;

beforeAll(async () => {
  buildGoConnectUdp(); // fails (never skips) without Go or the quic-go sources
  [goProxy, ours] = await Promise.all([
    startGoConnectUdpServer('proxy', {}),
    startInteropServer({ listen: '127.0.0.1:0' }),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([goProxy?.stop(), ours?.close()]);
});

describe('the interop kit against the Go reference proxy', () => {
  it('connect-udp cases pass; bind and QUIC-aware are unsupported, none fails', async () => {
    const s = ours as InteropServer;
    const results = await runCases(
      {
        template: `https://127.0.0.1:${(goProxy as GoConnectUdpServer).port}${DEFAULT_CONNECT_UDP_TEMPLATE}`,
        client: { insecure: true },
        echo: s.echo,
        reflector: s.reflector,
        h3Target: s.h3Target,
        h3Ca: [s.cert.certPem],
        timeoutMs: 3000,
      },
      selectCases([
        'udp-small',
        'udp-1200',
        'udp-many-tunnels',
        'udp-h3-in-tunnel',
        'bind-uncompressed',
        'quic-registration',
      ]),
    );
    const table = formatTable(results);
    expect(Object.fromEntries(results.map((r) => [r.name, r.status])), table).toEqual({
      'udp-small': 'pass',
      'udp-1200': 'pass',
      'udp-many-tunnels': 'pass',
      // HTTP/3 inside its tunnel: quic-go 0.29 closed the whole connection (INTERNAL_ERROR,
      // "PacketPacker BUG: packet too large") when the target's 1452-byte PMTU probe did not fit a
      // DATAGRAM frame; our inner connection now asks for 1200-byte packets at most.
      'udp-h3-in-tunnel': 'pass',
      'bind-uncompressed': 'unsupported',
      'quic-registration': 'unsupported',
    });
  }, 90_000);
});

describe('the Go CONNECT-UDP client against masque interop server', () => {
  it('echoes 200 datagrams through our interop proxy', async () => {
    const s = ours as InteropServer;
    const r = await runGoConnectUdpClient({
      proxy: `https://127.0.0.1:${s.proxy.port}`,
      target: s.echo,
      count: 200,
      size: 500,
      insecure: true,
      timeout: '20s',
    });
    expect(r, r.stderr).toMatchObject({ ok: true, status: 200 });
    expect(r.exitCode).toBe(0);
  }, 60_000);
});
