/**
 * RFC 9204 Appendix B, byte for byte: the encoder (driven with the example's choices where they
 * are not deterministic) produces every encoder stream, field section and (on the decoder side)
 * decoder stream byte string shown, and the decoder reaches the stated headers and table states.
 */
import { describe, expect, it } from 'vitest';
import { QpackDecoder, QpackEncoder } from '../../src/qpack/index.js';
import { fromHex, toHex } from '../../src/wire/index.js';

const hex = (s: string) => s.replace(/\s+/g, '');

function rows(snapshot: ReturnType<QpackEncoder['tableSnapshot']>) {
  return snapshot.map((e) => [e.absolute, e.refs, e.name, e.value]);
}

describe('RFC 9204 Appendix B', () => {
  // The decoder announced a maximum capacity of 220 (B.2 sets exactly that) and allows blocking.
  const encoder = new QpackEncoder({
    maxTableCapacity: 220,
    maxBlockedStreams: 16,
    huffman: 'never',
  });
  const decoder = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 16 });

  it('B.1 literal field line with name reference', () => {
    const section = encoder.encode(0, [[':path', '/index.html']], { shouldInsert: () => false });
    expect(toHex(section)).toBe(hex('0000 510b 2f69 6e64 6578 2e68 746d 6c'));
    expect(encoder.takeEncoderStreamData().length).toBe(0);
    expect(encoder.tableSnapshot()).toEqual([]);

    const result = decoder.decodeFieldSection(0, section);
    expect(result).toEqual({
      status: 'decoded',
      fields: [[':path', '/index.html']],
      neverIndexed: [],
      requiredInsertCount: 0,
    });
    expect(decoder.takeDecoderStreamData().length).toBe(0);
  });

  it('B.2 dynamic table: inserts, post-Base references, Section Acknowledgment', () => {
    encoder.setCapacity(220);
    const section = encoder.encode(
      4,
      [
        [':authority', 'www.example.com'],
        [':path', '/sample/path'],
      ],
      { shouldInsert: () => true },
    );
    const encoderStream = encoder.takeEncoderStreamData();
    expect(toHex(encoderStream)).toBe(
      hex(`3fbd01
           c00f 7777 772e 6578 616d 706c 652e 636f 6d
           c10c 2f73 616d 706c 652f 7061 7468`),
    );
    expect(toHex(section)).toBe(hex('0381 10 11'));
    expect(rows(encoder.tableSnapshot())).toEqual([
      [0, 1, ':authority', 'www.example.com'],
      [1, 1, ':path', '/sample/path'],
    ]);
    expect(encoder.tableSize).toBe(106);
    expect(encoder.knownReceivedCount).toBe(0);

    // The section overtakes the encoder stream: blocked, then unblocked by the inserts.
    expect(decoder.decodeFieldSection(4, section)).toEqual({
      status: 'blocked',
      requiredInsertCount: 2,
    });
    expect(decoder.receiveEncoderStream(encoderStream)).toEqual([4]);
    expect(decoder.capacity).toBe(220);
    expect(decoder.tableSize).toBe(106);
    const result = decoder.decodeFieldSection(4, section);
    expect(result.status === 'decoded' && result.fields).toEqual([
      [':authority', 'www.example.com'],
      [':path', '/sample/path'],
    ]);
    const decoderStream = decoder.takeDecoderStreamData();
    expect(toHex(decoderStream)).toBe('84');

    encoder.receiveDecoderStream(decoderStream);
    expect(rows(encoder.tableSnapshot())).toEqual([
      [0, 0, ':authority', 'www.example.com'],
      [1, 0, ':path', '/sample/path'],
    ]);
    expect(encoder.knownReceivedCount).toBe(2);
  });

  it('B.3 speculative insert and Insert Count Increment', () => {
    expect(encoder.insert('custom-key', 'custom-value')).toBe(2);
    const encoderStream = encoder.takeEncoderStreamData();
    expect(toHex(encoderStream)).toBe(
      hex('4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565'),
    );
    expect(encoder.tableSize).toBe(160);

    expect(decoder.receiveEncoderStream(encoderStream)).toEqual([]);
    const decoderStream = decoder.takeDecoderStreamData();
    expect(toHex(decoderStream)).toBe('01');

    encoder.receiveDecoderStream(decoderStream);
    expect(encoder.knownReceivedCount).toBe(3);
    expect(rows(encoder.tableSnapshot())).toEqual([
      [0, 0, ':authority', 'www.example.com'],
      [1, 0, ':path', '/sample/path'],
      [2, 0, 'custom-key', 'custom-value'],
    ]);
  });

  it('B.4 Duplicate, blocked section, Stream Cancellation', () => {
    expect(encoder.duplicate(0)).toBe(3);
    const encoderStream = encoder.takeEncoderStreamData();
    expect(toHex(encoderStream)).toBe('02');
    expect(encoder.tableSize).toBe(217);

    const section = encoder.encode(8, [
      [':authority', 'www.example.com'],
      [':path', '/'],
      ['custom-key', 'custom-value'],
    ]);
    expect(toHex(section)).toBe(hex('0500 80 c1 81'));
    expect(encoder.takeEncoderStreamData().length).toBe(0);
    expect(rows(encoder.tableSnapshot())).toEqual([
      [0, 0, ':authority', 'www.example.com'],
      [1, 0, ':path', '/sample/path'],
      [2, 1, 'custom-key', 'custom-value'],
      [3, 1, ':authority', 'www.example.com'],
    ]);
    expect(encoder.blockedStreamCount).toBe(1);

    // The encoder stream packet is delayed: the section blocks, and the stream is cancelled.
    expect(decoder.decodeFieldSection(8, section)).toEqual({
      status: 'blocked',
      requiredInsertCount: 4,
    });
    decoder.cancelStream(8);
    expect(decoder.blockedStreamCount).toBe(0);
    const decoderStream = decoder.takeDecoderStreamData();
    expect(toHex(decoderStream)).toBe('48');

    encoder.receiveDecoderStream(decoderStream);
    expect(rows(encoder.tableSnapshot())).toEqual([
      [0, 0, ':authority', 'www.example.com'],
      [1, 0, ':path', '/sample/path'],
      [2, 0, 'custom-key', 'custom-value'],
      [3, 0, ':authority', 'www.example.com'],
    ]);
    expect(encoder.knownReceivedCount).toBe(3);
    expect(encoder.blockedStreamCount).toBe(0);

    // The delayed Duplicate arrives; nothing is waiting for it any more.
    expect(decoder.receiveEncoderStream(encoderStream)).toEqual([]);
    expect(decoder.tableSize).toBe(217);
    // Had the section not been cancelled, it would decode to the example's field lines.
    const late = decoder.decodeFieldSection(12, section);
    expect(late.status === 'decoded' && late.fields).toEqual([
      [':authority', 'www.example.com'],
      [':path', '/'],
      ['custom-key', 'custom-value'],
    ]);
    // Our decoder then acknowledges that section (stream 12: 0x8c).
    expect(toHex(decoder.takeDecoderStreamData())).toBe('8c');
  });

  it('B.5 insert with dynamic name reference evicts the oldest entry', () => {
    expect(encoder.insert('custom-key', 'custom-value2')).toBe(4);
    const encoderStream = encoder.takeEncoderStreamData();
    expect(toHex(encoderStream)).toBe(hex('810d 6375 7374 6f6d 2d76 616c 7565 32'));
    expect(rows(encoder.tableSnapshot())).toEqual([
      [1, 0, ':path', '/sample/path'],
      [2, 0, 'custom-key', 'custom-value'],
      [3, 0, ':authority', 'www.example.com'],
      [4, 0, 'custom-key', 'custom-value2'],
    ]);
    expect(encoder.tableSize).toBe(215);
    expect(encoder.knownReceivedCount).toBe(3);

    decoder.receiveEncoderStream(encoderStream);
    expect(decoder.tableSnapshot().map((e) => [e.absolute, e.name, e.value])).toEqual([
      [1, ':path', '/sample/path'],
      [2, 'custom-key', 'custom-value'],
      [3, ':authority', 'www.example.com'],
      [4, 'custom-key', 'custom-value2'],
    ]);
    expect(decoder.tableSize).toBe(215);
  });

  it('decodes each Appendix B byte string with a fresh decoder fed one byte at a time', () => {
    const d = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1 });
    const stream = fromHex(`3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d
      c10c 2f73 616d 706c 652f 7061 7468
      4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565
      02 810d 6375 7374 6f6d 2d76 616c 7565 32`);
    for (const b of stream) d.receiveEncoderStream(Uint8Array.of(b));
    expect(d.insertCount).toBe(5);
    expect(d.tableSize).toBe(215);
    // The B.2 section now references evicted entry 0: an invalid reference.
    expect(() => d.decodeFieldSection(4, fromHex('0381 10 11'))).toThrow(/evicted/);
  });
});
