/**
 * quic-proxy §7 "Example Exchange", told as a story through the proxy's registration logic, with
 * the draft's own values: client CID 0x31323334, client VCID 0x62646668, target CID 0x61626364,
 * target VCID 0x123412341234. A scripted random source makes our VCID generator pick exactly the
 * draft's VCIDs, so every capsule can be compared byte for byte with the §5 layouts (draft-07
 * code points, as the example predates the Reason field; MAX_CONNECTION_IDS "Maximum Sequence
 * Number = 3").
 */
import { describe, expect, it } from 'vitest';
import {
  encodeQuicProxyCapsule,
  type QuicProxyCapsule,
} from '../../../src/masque/capsules/quic-proxy.js';
import { CidMappingTable } from '../../../src/masque/quic-aware/cid-table.js';
import { CidRegistrations } from '../../../src/masque/quic-aware/registrations.js';
import { VcidGenerator } from '../../../src/masque/quic-aware/vcid.js';
import { concatBytes, fromHex, toHex } from '../../../src/wire/index.js';

const TOKEN = new Uint8Array(16).fill(0x5a);

/** Yields the given byte strings, one per fill, in order. */
function scripted(...values: string[]) {
  const queue = values.map(fromHex);
  return {
    fill(b: Uint8Array) {
      const next = queue.shift();
      if (next === undefined || next.length !== b.length) throw new Error('unscripted random');
      b.set(next);
    },
  };
}

const wire = (c: QuicProxyCapsule): string => {
  const [type, value] = encodeQuicProxyCapsule(c, 'draft-07', { forwarding: true, v1: true });
  return toHex(
    concatBytes(
      // A 4-byte varint (0x80 prefix): the code points are above 2^14.
      fromHex((0x80000000 + type).toString(16)),
      Uint8Array.of(value.length),
      value,
    ),
  );
};

describe('quic-proxy §7 Example Exchange', () => {
  it('runs as the draft tells it, capsule by capsule', () => {
    const events: string[] = [];
    const reg = new CidRegistrations({
      table: new CidMappingTable<string>(),
      owner: 'stream 44',
      socket: 'target.example.com:443',
      forwarding: true,
      vcids: new VcidGenerator({ random: scripted('62646668', '123412341234') }),
      targetVcidLength: 6,
      resetTokenFor: () => TOKEN,
      maxActive: 4,
      hooks: {
        clientVcidActive: (c, v) => events.push(`forward to client: ${toHex(c)} as ${toHex(v)}`),
        targetVcidAdded: (v, c) => events.push(`forward to target: ${toHex(v)} as ${toHex(c)}`),
      },
    });
    // MAX_CONNECTION_IDS allowing sequence numbers 0-3 (four registrations).
    expect(reg.start()).toEqual([{ kind: 'max_connection_ids', limit: 4 }]);
    expect(wire({ kind: 'max_connection_ids', limit: 4 })).toBe('80ffe6070103');

    // STREAM(44): DATA  REGISTER_CLIENT_CID 0x31323334  →  ACK_CLIENT_CID with VCID 0x62646668.
    const register = { kind: 'register_client_cid', reason: 0, cid: fromHex('31323334') } as const;
    expect(wire(register)).toBe('80ffe6000431323334');
    const [ack] = reg.receive(register);
    expect(ack).toEqual({
      kind: 'ack_client_cid',
      cid: fromHex('31323334'),
      vcid: fromHex('62646668'),
    });
    expect(wire(ack)).toBe('80ffe6020a04313233340462646668');
    // "the proxy cannot send forwarded mode packets because the client hasn't acknowledged the
    // client VCID".
    expect(events).toEqual([]);

    // ACK_CLIENT_VCID: forwarded packets toward the client become possible.
    const ackVcid = {
      kind: 'ack_client_vcid',
      cid: fromHex('31323334'),
      vcid: fromHex('62646668'),
      token: TOKEN,
    } as const;
    expect(reg.receive(ackVcid)).toEqual([]);
    expect(events).toEqual(['forward to client: 31323334 as 62646668']);

    // REGISTER_TARGET_CID 0x61626364  →  ACK_TARGET_CID with VCID 0x123412341234 and a token.
    const registerTarget = {
      kind: 'register_target_cid',
      reason: 0,
      cid: fromHex('61626364'),
      token: TOKEN,
    } as const;
    const [ackTarget] = reg.receive(registerTarget);
    expect(ackTarget).toEqual({
      kind: 'ack_target_cid',
      cid: fromHex('61626364'),
      vcid: fromHex('123412341234'),
      token: TOKEN,
    });
    expect(wire(ackTarget)).toBe(`80ffe6041d04616263640612341234123410${toHex(TOKEN)}`);
    // "Client -> Target QUIC short header packets may use forwarded mode".
    expect(events.at(-1)).toBe('forward to target: 123412341234 as 61626364');
  });
});
