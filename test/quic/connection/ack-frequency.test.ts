/**
 * The ACK frequency extension (draft-ietf-quic-ack-frequency-14) between two connections, and the
 * sender's policy on its own: negotiation by min_ack_delay (§3), fewer ACKs on a one-way flow,
 * the frame checks of §4 (PROTOCOL_VIOLATION, obsolete sequence numbers ignored), the PTO's
 * max_ack_delay while a request is in flight (§7) and IMMEDIATE_ACK on PTO probes.
 */
import { describe, expect, it } from 'vitest';
import { AckFrequencySender } from '../../../src/quic/connection/ack-frequency.js';
import type { QlogEvent } from '../../../src/quic/connection/index.js';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import { encodeFrames, type Frame } from '../../../src/quic/frames/index.js';
import { Delay, type LinkElement, Network, type SimDatagram } from '../../../src/sim/index.js';
import {
  ClientNode,
  clientConfig,
  forgeOneRtt,
  SERVER_ADDR,
  ServerNode,
  serverConfig,
  T0,
} from './harness.js';

type Overrides = Parameters<typeof serverConfig>[1];
type ClientOverrides = Parameters<typeof clientConfig>[1];

function setup(
  clientOverrides: ClientOverrides = {},
  serverOverrides: Overrides = {},
  link: LinkElement[] = [new Delay(10)],
): { net: Network; client: ClientNode; server: ServerNode } {
  const net = new Network();
  net.now = T0;
  const client = new ClientNode(clientConfig(1, clientOverrides), T0);
  const server = new ServerNode(() => serverConfig(2, serverOverrides));
  net.add(client).add(server).defaultLink(link);
  net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
  return { net, client, server };
}

/** Frame types of each 1-RTT packet a connection sends, from its qlog. */
function packetLog(): { qlog: (e: QlogEvent) => void; packets: string[][] } {
  const packets: string[][] = [];
  return {
    packets,
    qlog: (e) => {
      if (e.name !== 'transport:packet_sent') return;
      const header = e.data.header as { packet_type: string };
      if (header.packet_type !== '1RTT') return;
      packets.push((e.data.frames as Array<{ frame_type: string }>).map((f) => f.frame_type));
    },
  };
}

const ackOnly = (frames: string[]): boolean => frames.every((f) => f === 'ack' || f === 'padding');

describe('negotiation (§3)', () => {
  it('both ends advertise min_ack_delay 1000 us by default and the sender side starts', () => {
    const { client, server } = setup();
    expect(client.conn.internals.peerParams?.minAckDelay).toBe(1000);
    expect(server.conn.internals.peerParams?.minAckDelay).toBe(1000);
    expect(client.conn.internals.ackFrequency).toBeDefined();
    expect(server.conn.internals.ackFrequency).toBeDefined();
  });

  it('minAckDelay 0 does not advertise, and the peer then asks nothing', () => {
    const { client, server } = setup({ transport: { minAckDelay: 0 } });
    expect(server.conn.internals.peerParams?.minAckDelay).toBeUndefined();
    expect(server.conn.internals.ackFrequency).toBeUndefined();
    expect(client.conn.internals.ackFrequency).toBeDefined();
  });

  it('a min_ack_delay above max_ack_delay is TRANSPORT_PARAMETER_ERROR', () => {
    // 26,000 us against the default max_ack_delay of 25 ms.
    const { server } = setup({
      transport: { minAckDelay: 0 },
      extraTransportParameters: { minAckDelay: 26_000 },
    });
    const closed = server.log.of('connection-closed')[0];
    expect(closed?.info.errorCode).toBe(TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
  });

  it('a configuration with min_ack_delay above max_ack_delay is refused', () => {
    expect(() => setup({ transport: { maxAckDelay: 1, minAckDelay: 1001 } })).toThrow(RangeError);
  });
});

describe('a one-way flow is acknowledged less often', () => {
  /** The server sends `n` datagrams to the client; returns the client's ACK-only packets. */
  function oneWay(serverOverrides: Overrides, n: number): { acks: number; frames: string[][] } {
    const receiver = packetLog();
    const sender = packetLog();
    const { net, client, server } = setup(
      { transport: { maxDatagramFrameSize: 1500 }, qlog: receiver.qlog },
      { transport: { maxDatagramFrameSize: 1500 }, qlog: sender.qlog, ...serverOverrides },
    );
    const payload = new Uint8Array(1000);
    let queued = 0;
    const fill = (): void => {
      while (queued < n && server.conn.sendDatagram(payload)) queued++;
    };
    server.onEvent = (_conn, ev) => {
      if (ev.type === 'datagrams-writable') fill();
    };
    fill();
    receiver.packets.length = 0;
    net.run({ until: net.now + 60_000, done: () => client.log.of('datagram').length === n });
    expect(client.log.of('datagram').length).toBe(n);
    return { acks: receiver.packets.filter(ackOnly).length, frames: sender.packets };
  }

  it('with the extension the receiver sends a fraction of RFC 9000 every-other-packet ACKs', () => {
    const n = 3000;
    const plain = oneWay({ ackFrequency: false }, n);
    const tuned = oneWay({}, n);
    expect(plain.frames.flat()).not.toContain('ack_frequency');
    expect(tuned.frames.flat()).toContain('ack_frequency');
    // RFC 9000 §13.2.2: about one ACK per two packets.
    expect(plain.acks).toBeGreaterThan(n / 3);
    // A threshold of up to 9 once the window is large: well under a third of that.
    expect(tuned.acks).toBeLessThan(plain.acks / 3);
  });
});

describe('received ACK_FREQUENCY and IMMEDIATE_ACK frames (§4, §5)', () => {
  const frames = (...f: Frame[]): Uint8Array => encodeFrames(f);
  const af = (seq: number, delay: number, threshold = 4): Frame => ({
    kind: 'ACK_FREQUENCY',
    sequenceNumber: seq,
    ackElicitingThreshold: threshold,
    requestedMaxAckDelay: delay,
    reorderingThreshold: 3,
  });

  function inject(overrides: Overrides, payload: Uint8Array): ServerNode {
    const { net, client, server } = setup({}, overrides);
    net.send({ from: client.address, to: SERVER_ADDR, data: forgeOneRtt(client.conn, payload) });
    // The server has it 10 ms later; stop before its ACK of a packet the client's connection
    // never sent (forged) reaches the client, which would close for that.
    net.run({ until: net.now + 15 });
    return server;
  }

  const closeCode = (server: ServerNode): number | undefined =>
    server.log.of('connection-closed')[0]?.info.errorCode;

  it('a Requested Max Ack Delay below our min_ack_delay is PROTOCOL_VIOLATION', () => {
    const server = inject({}, frames(af(0, 999)));
    expect(closeCode(server)).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
  });

  it('a Requested Max Ack Delay of 2^14 ms is PROTOCOL_VIOLATION; 2^14 ms - 1 us is not', () => {
    expect(closeCode(inject({}, frames(af(0, 2 ** 14 * 1000))))).toBe(
      TransportErrorCode.PROTOCOL_VIOLATION,
    );
    // A Sequence Number above any the client connection itself sent.
    const server = inject({}, frames(af(1000, 2 ** 14 * 1000 - 1)));
    expect(closeCode(server)).toBeUndefined();
    expect(server.conn.internals.appSpace.received.maxAckDelay).toBeCloseTo(16_383.999, 6);
  });

  it('either frame without our min_ack_delay advertised is PROTOCOL_VIOLATION', () => {
    const off = { transport: { minAckDelay: 0 } };
    expect(closeCode(inject(off, frames({ kind: 'IMMEDIATE_ACK' })))).toBe(
      TransportErrorCode.PROTOCOL_VIOLATION,
    );
    expect(closeCode(inject(off, frames(af(0, 5000))))).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
  });

  it('a frame whose Sequence Number is not above the largest processed is ignored', () => {
    const server = inject({}, frames(af(5, 7000), af(3, 2000), af(5, 3000)));
    expect(closeCode(server)).toBeUndefined();
    expect(server.conn.internals.ackFrequencySeqReceived).toBe(5);
    expect(server.conn.internals.appSpace.received.maxAckDelay).toBe(7);
  });
});

describe('the sender (§7, §8.1, §9)', () => {
  it('asks for a threshold of a quarter of the window less one, 1 to 9, the RTT, reordering 3', () => {
    const s = new AckFrequencySender(1000, 25, {});
    const f = s.poll(0, 10, 0.1);
    expect(f).toEqual({
      kind: 'ACK_FREQUENCY',
      sequenceNumber: 0,
      ackElicitingThreshold: 1,
      requestedMaxAckDelay: 1000, // 0.1 ms raised to the peer's min_ack_delay
      reorderingThreshold: 3,
    });
    s.onSent(f!, 0);
    expect(s.poll(1, 40, 0.1)).toBeUndefined(); // one request in flight at a time
    s.onAcked(0);
    expect(s.poll(1, 10, 0.1)).toBeUndefined(); // nothing changed
    expect(s.poll(1, 40, 0.1)).toMatchObject({ sequenceNumber: 1, ackElicitingThreshold: 9 });
    expect(s.poll(1, 400, 0.1)).toMatchObject({ ackElicitingThreshold: 9 }); // the ceiling
    expect(s.poll(100, 10, 40)).toMatchObject({ requestedMaxAckDelay: 25_000 }); // peer max
  });

  it('a new delay goes out only when it halves or doubles, and at most once per RTT', () => {
    const s = new AckFrequencySender(1000, 25, {});
    s.onSent(s.poll(0, 10, 10)!, 0);
    s.onAcked(0);
    expect(s.poll(5, 10, 15)).toBeUndefined(); // within one RTT of the last
    expect(s.poll(20, 10, 15)).toBeUndefined(); // 15 ms: not double 10
    expect(s.poll(20, 10, 20)).toMatchObject({ requestedMaxAckDelay: 20_000 });
    expect(s.poll(20, 10, 5)).toMatchObject({ requestedMaxAckDelay: 5000 });
  });

  it('the PTO uses the larger of the delay in force and the one in flight', () => {
    const s = new AckFrequencySender(1000, 25, {});
    expect(s.maxAckDelayMs).toBe(25);
    s.onSent(s.poll(0, 10, 2)!, 0);
    expect(s.maxAckDelayMs).toBe(25); // asking for 2 ms: 25 until acknowledged
    s.onAcked(0);
    expect(s.maxAckDelayMs).toBe(2);
    s.onSent(s.poll(10, 10, 8)!, 10);
    expect(s.maxAckDelayMs).toBe(8); // asking for more: the larger at once
  });

  it('a lost request is replaced by a new one with the next Sequence Number', () => {
    const s = new AckFrequencySender(1000, 25, {});
    s.onSent(s.poll(0, 10, 2)!, 0);
    s.onLost(0);
    expect(s.poll(5, 10, 2)).toMatchObject({ sequenceNumber: 1, requestedMaxAckDelay: 2000 });
    s.onLost(7); // not in flight: nothing
    expect(s.maxAckDelayMs).toBe(25);
  });

  it('refuses a ceiling below 1', () => {
    expect(() => new AckFrequencySender(1000, 25, { maxAckElicitingThreshold: 0 })).toThrow(
      RangeError,
    );
  });
});

describe('PTO probes carry IMMEDIATE_ACK (§7)', () => {
  it('a probe after the peer went silent asks for an immediate acknowledgment', () => {
    let blackhole = false;
    const cut: LinkElement = {
      process: (d: SimDatagram): Array<[number, SimDatagram]> => (blackhole ? [] : [[10, d]]),
    };
    const log = packetLog();
    const { net, client } = setup({ qlog: log.qlog }, {}, [cut]);
    log.packets.length = 0;
    blackhole = true;
    client.conn.sendDatagram(new Uint8Array(0));
    net.run({ until: net.now + 3_000 });
    expect(log.packets.filter((p) => p.includes('immediate_ack')).length).toBeGreaterThan(0);
  });
});
