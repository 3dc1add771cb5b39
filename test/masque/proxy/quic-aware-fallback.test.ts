/**
 * QUIC-aware tunnels reach a dual-stack target over its other family when the preferred one's
 * socket cannot open (open-target.ts, RFC 8305 §4), as plain connect-udp does; a name with any
 * address of this proxy is a loop whichever address would be tried.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parseTarget } from '../../../src/masque/connect-udp/index.js';
import type { Admitted } from '../../../src/masque/proxy/admission.js';
import { QuicAwareStrategy } from '../../../src/masque/proxy/quic-aware-strategy.js';
import { VcidGenerator } from '../../../src/masque/quic-aware/vcid.js';
import type { PacketSeam } from '../../../src/runtime/udp/packet-seam.js';
import { systemRandom } from '../../../src/util/random.js';
import { FakeSocketFactory } from './fakes.js';

function strategy(own: (address: string, port: number) => boolean = () => false) {
  const sockets = new FakeSocketFactory();
  const s = new QuicAwareStrategy({
    proxyName: 'p',
    socketFactory: sockets,
    logger: pino({ level: 'silent' }),
    random: systemRandom,
    vcids: new VcidGenerator({ random: systemRandom }),
    idleTimeoutMs: 120_000,
    queueLimit: 64,
    capsuleBacklogBytes: 65_536,
    largeDatagrams: 'drop',
    profiles: ['draft-09'],
    forwarding: false,
    portSharing: false,
  });
  s.attach({ packets: { localCidLength: 8 } as PacketSeam, isOwnAddress: own });
  return { s, sockets };
}

const admitted: Admitted = {
  ok: true,
  mode: 'quic-aware',
  fellBack: false,
  target: parseTarget('dual.test', '443'),
  addresses: [
    { address: '2001:db8::1', family: 6 },
    { address: '192.0.2.1', family: 4 },
  ],
};

describe('QUIC-aware target sockets over several addresses', () => {
  it('IPv6 cannot open: the tunnel goes to the IPv4 address, and says so in next-hop', async () => {
    const { s, sockets } = strategy();
    sockets.refuse.add('2001:db8::1');
    const r = await s.prepare(admitted);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(sockets.sockets.map((x) => x.target.address)).toEqual(['192.0.2.1']);
    expect(r.headers).toContainEqual(['proxy-status', 'p;next-hop="192.0.2.1:443"']);
    r.abandon();
    expect(s.socketsOpen).toBe(0);
  });

  it('no address opens: 502 destination_ip_unroutable', async () => {
    const { s, sockets } = strategy();
    sockets.refuse.add('2001:db8::1');
    sockets.refuse.add('192.0.2.1');
    expect(await s.prepare(admitted)).toMatchObject({
      ok: false,
      status: 502,
      proxyStatus: { error: 'destination_ip_unroutable' },
    });
  });

  it('any address of the name being ours is a loop', async () => {
    const { s, sockets } = strategy((a, port) => a === '192.0.2.1' && port === 443);
    expect(await s.prepare(admitted)).toMatchObject({
      ok: false,
      status: 502,
      proxyStatus: { error: 'proxy_loop_detected' },
    });
    expect(sockets.sockets).toEqual([]);
  });
});
