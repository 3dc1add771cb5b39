/**
 * The client's QUIC-aware socket with a proxy that did not answer Proxy-QUIC-Forwarding
 * (draft-ietf-masque-quic-proxy §3: "the client SHALL assume that the proxy does not support this
 * extension"): packets are tunnelled, no registration capsule is sent. Against the Go reference
 * proxy the HTTP/3 case through such a tunnel runs end to end (test/interop/kit-go.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { CapsuleType } from '../../src/capsule/types.js';
import { QuicAwareSocket } from '../../src/client/quic-aware-socket.js';
import { QUIC_PROXY_PROFILES } from '../../src/masque/capsules/quic-proxy.js';

function fakeSession() {
  const sent: Array<{ kind: 'datagram' | 'capsule'; type?: number; bytes: Uint8Array }> = [];
  const session = {
    closed: new Promise<unknown>(() => {}),
    closeInfo: undefined,
    onDatagram: () => () => {},
    onCapsule: () => () => {},
    sendDatagram(payload: Uint8Array) {
      sent.push({ kind: 'datagram', bytes: payload });
      return true;
    },
    sendCapsule(type: number, value: Uint8Array) {
      sent.push({ kind: 'capsule', type, bytes: value });
      return true;
    },
    close() {},
    abort() {},
  };
  return { session, sent };
}

const outer = {
  localCidLength: 8,
  claimCid() {},
  unclaimCid() {},
  isCidRouted: () => false,
  sendRaw() {},
};

/** A long-header Initial: version 1, DCID of 8, SCID of 8 (what a client sends first). */
function initial(): Uint8Array {
  const p = new Uint8Array(1200);
  p.set([0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9], 0);
  return p;
}

function socket(supported: boolean) {
  const { session, sent } = fakeSession();
  const sock = new QuicAwareSocket(session, {
    remote: '192.0.2.7:443',
    profile: QUIC_PROXY_PROFILES[0],
    forwarding: undefined,
    outer,
    proxyAddress: '127.0.0.1:4433',
    supported,
  });
  sock.send(initial(), 443, '192.0.2.7');
  return { sock, sent };
}

describe('QuicAwareSocket', () => {
  it('without Proxy-QUIC-Forwarding: the packet is tunnelled, nothing is registered', () => {
    const { sock, sent } = socket(false);
    expect(sent.map((s) => s.kind)).toEqual(['datagram']);
    expect(sock.stats.registrations).toBe(0);
    expect(sock.stats.tunnelledOut).toBe(1);
  });

  it('with it: the client CID is registered before the packet is tunnelled', () => {
    const { sock, sent } = socket(true);
    expect(sent.map((s) => s.kind)).toEqual(['capsule', 'datagram']);
    expect(sent[0].type).not.toBe(CapsuleType.DATAGRAM);
    expect(sock.stats.registrations).toBe(1);
  });
});
