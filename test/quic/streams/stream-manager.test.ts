import { describe, expect, it } from 'vitest';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import { FrameType } from '../../../src/quic/frames/types.js';
import {
  type StreamControlFrame,
  type StreamEvent,
  StreamManager,
} from '../../../src/quic/streams/index.js';
import { bytes, expectTransportError, limits } from './helpers.js';

function events(m: StreamManager): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (let e = m.pollEvent(); e; e = m.pollEvent()) out.push(e);
  return out;
}

function controls(m: StreamManager): StreamControlFrame[] {
  const out: StreamControlFrame[] = [];
  for (let f = m.pollControlFrame(); f; f = m.pollControlFrame()) out.push(f);
  return out;
}

// Distinct values so a wrong mapping shows up as a wrong number.
const CLIENT_PARAMS = {
  initialMaxData: 100_000,
  initialMaxStreamDataBidiLocal: 1001,
  initialMaxStreamDataBidiRemote: 1002,
  initialMaxStreamDataUni: 1003,
  initialMaxStreamsBidi: 4,
  initialMaxStreamsUni: 5,
};
const SERVER_PARAMS = {
  initialMaxData: 200_000,
  initialMaxStreamDataBidiLocal: 2001,
  initialMaxStreamDataBidiRemote: 2002,
  initialMaxStreamDataUni: 2003,
  initialMaxStreamsBidi: 6,
  initialMaxStreamsUni: 7,
};

function clientAndServer(): { client: StreamManager; server: StreamManager } {
  return {
    client: new StreamManager({ role: 'client', local: CLIENT_PARAMS, peer: SERVER_PARAMS }),
    server: new StreamManager({ role: 'server', local: SERVER_PARAMS, peer: CLIENT_PARAMS }),
  };
}

describe('StreamManager: transport parameter mapping (RFC 9000 §18.2)', () => {
  it('client-opened bidi stream 0: client sends under server bidi_remote, receives under its bidi_local', () => {
    const { client, server } = clientAndServer();
    const id = client.openStream(true);
    expect(id).toBe(0);
    expect(client.sendStream(0)?.limit).toBe(SERVER_PARAMS.initialMaxStreamDataBidiRemote);
    expect(client.recvStream(0)?.limit).toBe(CLIENT_PARAMS.initialMaxStreamDataBidiLocal);
    server.onStreamFrame(0, 0, bytes(1), false);
    expect(server.recvStream(0)?.limit).toBe(SERVER_PARAMS.initialMaxStreamDataBidiRemote);
    expect(server.sendStream(0)?.limit).toBe(CLIENT_PARAMS.initialMaxStreamDataBidiLocal);
  });

  it('server-opened bidi stream 1: the mirror image', () => {
    const { client, server } = clientAndServer();
    expect(server.openStream(true)).toBe(1);
    expect(server.sendStream(1)?.limit).toBe(CLIENT_PARAMS.initialMaxStreamDataBidiRemote);
    expect(server.recvStream(1)?.limit).toBe(SERVER_PARAMS.initialMaxStreamDataBidiLocal);
    client.onStreamFrame(1, 0, bytes(1), false);
    expect(client.recvStream(1)?.limit).toBe(CLIENT_PARAMS.initialMaxStreamDataBidiRemote);
    expect(client.sendStream(1)?.limit).toBe(SERVER_PARAMS.initialMaxStreamDataBidiLocal);
  });

  it('uni streams: the opener sends under the peer uni limit, the peer receives under its own', () => {
    const { client, server } = clientAndServer();
    expect(client.openStream(false)).toBe(2);
    expect(client.sendStream(2)?.limit).toBe(SERVER_PARAMS.initialMaxStreamDataUni);
    expect(client.recvStream(2)).toBeNull();
    server.onStreamFrame(2, 0, bytes(1), false);
    expect(server.recvStream(2)?.limit).toBe(SERVER_PARAMS.initialMaxStreamDataUni);
    expect(server.sendStream(2)).toBeNull();
    expect(server.openStream(false)).toBe(3);
    expect(server.sendStream(3)?.limit).toBe(CLIENT_PARAMS.initialMaxStreamDataUni);
  });

  it('stream counts: each side may open as many streams as the other side allowed', () => {
    const { client, server } = clientAndServer();
    expect(client.openableStreams(true)).toBe(SERVER_PARAMS.initialMaxStreamsBidi);
    expect(client.openableStreams(false)).toBe(SERVER_PARAMS.initialMaxStreamsUni);
    expect(server.openableStreams(true)).toBe(CLIENT_PARAMS.initialMaxStreamsBidi);
    expect(server.openableStreams(false)).toBe(CLIENT_PARAMS.initialMaxStreamsUni);
    expect(client.sendFlow.limit).toBe(SERVER_PARAMS.initialMaxData);
    expect(client.recvFlow.limit).toBe(CLIENT_PARAMS.initialMaxData);
  });

  it('peer parameters arriving late raise the credit of streams already open', () => {
    const client = new StreamManager({ role: 'client', local: CLIENT_PARAMS });
    expect(client.openStream(true)).toBeNull(); // no peer limits yet: 0 streams
    client.setPeerParameters(SERVER_PARAMS);
    const id = client.openStream(true) as number;
    expect(client.sendStream(id)?.limit).toBe(SERVER_PARAMS.initialMaxStreamDataBidiRemote);
    const early = new StreamManager({
      role: 'client',
      local: CLIENT_PARAMS,
      peer: limits(0, { initialMaxStreamsBidi: 1 }),
    });
    early.openStream(true);
    expect(early.sendStream(0)?.writableBytes).toBe(0);
    early.setPeerParameters(SERVER_PARAMS);
    expect(early.sendStream(0)?.writableBytes).toBe(SERVER_PARAMS.initialMaxStreamDataBidiRemote);
    expect(events(early)).toContainEqual({ type: 'writable', streamId: 0 });
  });
});

describe('StreamManager: stream limits (RFC 9000 §4.6)', () => {
  it('opening beyond the peer MAX_STREAMS fails and queues STREAMS_BLOCKED once', () => {
    const client = new StreamManager({
      role: 'client',
      local: limits(100),
      peer: limits(100, { initialMaxStreamsUni: 2 }),
    });
    expect(client.openStream(false)).toBe(2);
    expect(client.openStream(false)).toBe(6);
    expect(client.openStream(false)).toBeNull();
    expect(client.openStream(false)).toBeNull();
    expect(controls(client)).toEqual([{ kind: 'STREAMS_BLOCKED', bidi: false, maximum: 2 }]);
    client.onMaxStreams(false, 1); // smaller: ignored
    expect(client.openStream(false)).toBeNull();
    client.onMaxStreams(false, 3);
    expect(client.openStream(false)).toBe(10);
    expect(events(client)).toContainEqual({ type: 'streams_available', bidi: false });
  });

  it('a peer that opens more streams than allowed gets STREAM_LIMIT_ERROR', () => {
    const server = new StreamManager({
      role: 'server',
      local: limits(100, { initialMaxStreamsBidi: 3 }),
      peer: limits(100),
    });
    server.onStreamFrame(8, 0, bytes(1), false); // index 2: the third stream
    expectTransportError(
      () => server.onStreamFrame(12, 0, bytes(1), false),
      TransportErrorCode.STREAM_LIMIT_ERROR,
      FrameType.STREAM,
    );
  });

  it('receiving stream 8 opens streams 0 and 4 too, in order (RFC 9000 §3.2)', () => {
    const server = new StreamManager({ role: 'server', local: limits(100), peer: limits(100) });
    server.onStreamFrame(8, 0, bytes(1), false);
    expect(events(server).slice(0, 3)).toEqual([
      { type: 'opened', streamId: 0 },
      { type: 'opened', streamId: 4 },
      { type: 'opened', streamId: 8 },
    ]);
    expect(server.size).toBe(3);
    server.onStreamFrame(4, 0, bytes(1), false);
    expect(events(server)).toEqual([{ type: 'readable', streamId: 4 }]);
  });

  it('MAX_STREAMS above 2^60 is a FRAME_ENCODING_ERROR', () => {
    const m = new StreamManager({ role: 'client', local: limits(1), peer: limits(1) });
    m.onMaxStreams(true, 2 ** 60); // the largest legal value
    expectTransportError(
      () => m.onMaxStreams(true, 2 ** 60 + 2 ** 8),
      TransportErrorCode.FRAME_ENCODING_ERROR,
      FrameType.MAX_STREAMS_BIDI,
    );
    expectTransportError(
      () => m.setPeerParameters(limits(1, { initialMaxStreamsUni: 2 ** 61 })),
      TransportErrorCode.TRANSPORT_PARAMETER_ERROR,
    );
  });

  it('as peer streams close, MAX_STREAMS lets the peer keep opening', () => {
    const server = new StreamManager({
      role: 'server',
      local: limits(100, { initialMaxStreamsUni: 2 }),
      peer: limits(100),
    });
    server.onStreamFrame(2, 0, bytes(3), true);
    const recv = server.recvStream(2);
    expect(recv?.read()?.length).toBe(3);
    expect(recv?.finished).toBe(true);
    expect(server.recvStream(2)).toBeNull(); // retired
    expect(controls(server)).toEqual([{ kind: 'MAX_STREAMS', bidi: false, maximum: 3 }]);
    expect(server.localMaxStreams(false)).toBe(3);
    // Streams 6 and 10 (indexes 1, 2) are now allowed.
    server.onStreamFrame(10, 0, bytes(1), false);
    // A late retransmission for the closed stream 2 is ignored.
    server.onStreamFrame(2, 0, bytes(3), true);
    expect(server.recvStream(2)).toBeNull();
  });

  it('a lost MAX_STREAMS is resent while current; STREAMS_BLOCKED below our limit re-sends it', () => {
    const server = new StreamManager({
      role: 'server',
      local: limits(100, { initialMaxStreamsUni: 1 }),
      peer: limits(100),
    });
    server.onStreamFrame(2, 0, new Uint8Array(0), true);
    server.recvStream(2)?.read();
    const [f] = controls(server);
    expect(f).toEqual({ kind: 'MAX_STREAMS', bidi: false, maximum: 2 });
    server.onControlFrameLost(f);
    expect(controls(server)).toEqual([f]);
    server.onStreamsBlocked(false, 1);
    expect(controls(server)).toEqual([f]);
    server.onStreamsBlocked(false, 2);
    expect(controls(server)).toEqual([]);
  });
});

describe('StreamManager: frames in the wrong state (RFC 9000 §19)', () => {
  const client = () => new StreamManager({ role: 'client', local: limits(100), peer: limits(100) });

  it('STREAM for a locally initiated stream not yet opened: STREAM_STATE_ERROR', () => {
    expectTransportError(
      () => client().onStreamFrame(0, 0, bytes(1), false),
      TransportErrorCode.STREAM_STATE_ERROR,
      FrameType.STREAM,
    );
  });

  it('STREAM for our own uni stream (send-only): STREAM_STATE_ERROR (§19.8)', () => {
    const c = client();
    c.openStream(false);
    expectTransportError(
      () => c.onStreamFrame(2, 0, bytes(1), false),
      TransportErrorCode.STREAM_STATE_ERROR,
      FrameType.STREAM,
    );
  });

  it('RESET_STREAM and STREAM_DATA_BLOCKED for a send-only stream: STREAM_STATE_ERROR (§19.4, §19.13)', () => {
    const c = client();
    c.openStream(false);
    expectTransportError(
      () => c.onResetStream(2, 0, 0),
      TransportErrorCode.STREAM_STATE_ERROR,
      FrameType.RESET_STREAM,
    );
    expectTransportError(
      () => c.onStreamDataBlocked(2, 0),
      TransportErrorCode.STREAM_STATE_ERROR,
      FrameType.STREAM_DATA_BLOCKED,
    );
  });

  it('MAX_STREAM_DATA and STOP_SENDING for a receive-only stream: STREAM_STATE_ERROR (§19.10, §19.5)', () => {
    const c = client();
    expectTransportError(
      () => c.onMaxStreamData(3, 10),
      TransportErrorCode.STREAM_STATE_ERROR,
      FrameType.MAX_STREAM_DATA,
    );
    expectTransportError(
      () => c.onStopSending(3, 0),
      TransportErrorCode.STREAM_STATE_ERROR,
      FrameType.STOP_SENDING,
    );
  });

  it('MAX_STREAM_DATA and STOP_SENDING for our stream not yet opened: STREAM_STATE_ERROR', () => {
    const c = client();
    expectTransportError(
      () => c.onMaxStreamData(4, 10),
      TransportErrorCode.STREAM_STATE_ERROR,
      FrameType.MAX_STREAM_DATA,
    );
    expectTransportError(() => c.onStopSending(6, 0), TransportErrorCode.STREAM_STATE_ERROR);
  });

  it('MAX_STREAM_DATA for a peer bidi stream opens it (§3.2) and gives our sending part credit', () => {
    const c = client();
    c.onMaxStreamData(1, 500);
    expect(events(c)).toEqual([
      { type: 'opened', streamId: 1 },
      { type: 'writable', streamId: 1 },
    ]);
    expect(c.sendStream(1)?.limit).toBe(500);
  });

  it('connection data beyond MAX_DATA across streams: FLOW_CONTROL_ERROR', () => {
    const server = new StreamManager({
      role: 'server',
      local: limits(100, { initialMaxData: 150 }),
      peer: limits(100),
    });
    server.onStreamFrame(0, 0, bytes(100), false);
    server.onResetStream(4, 0, 50);
    expectTransportError(
      () => server.onStreamFrame(8, 0, bytes(1), false),
      TransportErrorCode.FLOW_CONTROL_ERROR,
      FrameType.STREAM,
    );
  });
});

describe('StreamManager: sending', () => {
  it('streams are served round robin, within the connection credit, then DATA_BLOCKED', () => {
    const c = new StreamManager({
      role: 'client',
      local: limits(1000),
      peer: limits(1000, { initialMaxData: 250 }),
    });
    const a = c.openStream(true) as number;
    const b = c.openStream(true) as number;
    c.sendStream(a)?.write(bytes(200));
    c.sendStream(b)?.write(bytes(200));
    const order: Array<[number, number]> = [];
    for (let f = c.nextStreamFrame(60); f; f = c.nextStreamFrame(60)) {
      order.push([f.streamId, f.data.length]);
    }
    const sizes = order.map(([, n]) => n);
    expect(sizes.reduce((x, y) => x + y, 0)).toBe(250);
    expect(order.slice(0, 4).map(([id]) => id)).toEqual([a, b, a, b]);
    expect(sizes.every((n) => n <= 60 - 4)).toBe(true);
    expect(controls(c)).toEqual([{ kind: 'DATA_BLOCKED', maximum: 250 }]);
    c.onMaxData(400);
    expect(c.nextStreamFrame(1000)).not.toBeNull();
  });

  it('frames fit in the space given, header included', () => {
    const c = new StreamManager({ role: 'client', local: limits(1e6), peer: limits(1e6) });
    const id = c.openStream(false) as number;
    c.sendStream(id)?.write(bytes(100_000));
    for (const space of [3, 5, 17, 100, 1200]) {
      const f = c.nextStreamFrame(space);
      if (!f) continue;
      const header = 1 + 1 + (f.offset > 0 ? (f.offset < 64 ? 1 : f.offset < 16384 ? 2 : 4) : 0);
      const lengthField = f.data.length < 64 ? 1 : 2;
      expect(header + lengthField + f.data.length).toBeLessThanOrEqual(space);
    }
    expect(c.nextStreamFrame(2)).toBeNull();
  });

  it('STOP_SENDING from the peer yields RESET_STREAM with its code and a stop_sending event', () => {
    const c = new StreamManager({ role: 'client', local: limits(100), peer: limits(100) });
    const id = c.openStream(true) as number;
    c.sendStream(id)?.write(bytes(10));
    c.nextStreamFrame(100);
    c.onStopSending(id, 0x10c);
    expect(events(c)).toContainEqual({ type: 'stop_sending', streamId: id, errorCode: 0x10c });
    const frames = controls(c);
    expect(frames).toEqual([
      { kind: 'RESET_STREAM', streamId: id, errorCode: 0x10c, finalSize: 10 },
    ]);
    c.onControlFrameLost(frames[0]);
    expect(controls(c)).toEqual(frames);
    c.onControlFrameAcked(frames[0]);
    expect(c.sendStream(id)?.isTerminal).toBe(true);
  });

  it('reading returns connection credit: MAX_DATA and MAX_STREAM_DATA follow', () => {
    const s = new StreamManager({
      role: 'server',
      local: limits(100, { initialMaxData: 100 }),
      peer: limits(100),
    });
    s.onStreamFrame(0, 0, bytes(80), false);
    const recv = s.recvStream(0);
    recv?.read();
    expect(controls(s)).toEqual([
      { kind: 'MAX_DATA', maximum: 180 },
      { kind: 'MAX_STREAM_DATA', streamId: 0, maximum: 180 },
    ]);
  });

  it('the application stopping a stream queues STOP_SENDING and releases connection credit', () => {
    const s = new StreamManager({
      role: 'server',
      local: limits(100, { initialMaxData: 100 }),
      peer: limits(100),
    });
    s.onStreamFrame(0, 0, bytes(90), false);
    s.recvStream(0)?.stopSending(7);
    expect(controls(s)).toEqual([
      { kind: 'MAX_DATA', maximum: 190 },
      { kind: 'STOP_SENDING', streamId: 0, errorCode: 7 },
    ]);
  });
});
