/**
 * The proxy's registration logic and CID-mapping table, without sockets: every MUST of
 * quic-proxy §5 that the proxy enforces, conflicts, credit, loop detection.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CapsuleError } from '../../../src/capsule/errors.js';
import { CidReason, type QuicProxyCapsule } from '../../../src/masque/capsules/quic-proxy.js';
import { CidMappingTable, cidKey } from '../../../src/masque/quic-aware/cid-table.js';
import {
  CidRegistrations,
  type RegistrationOptions,
} from '../../../src/masque/quic-aware/registrations.js';
import { VcidGenerator } from '../../../src/masque/quic-aware/vcid.js';
import { SeededRandom } from '../../../src/util/random.js';
import { fromHex, toHex } from '../../../src/wire/index.js';

type Tunnel = string;

function setup(
  opts: Partial<RegistrationOptions<Tunnel>> = {},
  table = new CidMappingTable<Tunnel>(),
) {
  const log: string[] = [];
  const reg = new CidRegistrations<Tunnel>({
    table,
    owner: 't1',
    socket: 'target-A',
    forwarding: true,
    vcids: new VcidGenerator({ random: new SeededRandom(3) }),
    targetVcidLength: 8,
    resetTokenFor: () => new Uint8Array(16).fill(7),
    hooks: {
      clientCidAdded: (c) => log.push(`client+ ${toHex(c)}`),
      clientCidRemoved: (c) => log.push(`client- ${toHex(c)}`),
      clientVcidActive: (c, v) => log.push(`fwd-to-client ${toHex(c)} via ${toHex(v)}`),
      clientVcidRetired: (c) => log.push(`fwd-to-client off ${toHex(c)}`),
      targetVcidAdded: (v, c) => log.push(`fwd-to-target ${toHex(v)} -> ${toHex(c)}`),
      targetVcidRemoved: (_v, c) => log.push(`fwd-to-target off ${toHex(c)}`),
      targetCidAdded: (c, t) => log.push(`target+ ${toHex(c)} token ${t.length}`),
      targetCidRemoved: (c) => log.push(`target- ${toHex(c)}`),
    },
    ...opts,
  });
  const opening = reg.start(); // the first MAX_CONNECTION_IDS, checked in its own test
  return { reg, table, log, opening };
}

const regClient = (hex: string, reason = 0): QuicProxyCapsule => ({
  kind: 'register_client_cid',
  reason,
  cid: fromHex(hex),
});
const regTarget = (hex: string, token = new Uint8Array(16)): QuicProxyCapsule => ({
  kind: 'register_target_cid',
  reason: 0,
  cid: fromHex(hex),
  token,
});

describe('registrations (quic-proxy §5.10)', () => {
  it('answers REGISTER_CLIENT_CID with ACK_CLIENT_CID and a client VCID; forwards only after ACK_CLIENT_VCID', () => {
    const { reg, log } = setup();
    const [ack] = reg.receive(regClient('3132333435363738'));
    expect(ack.kind).toBe('ack_client_cid');
    const a = ack as Extract<QuicProxyCapsule, { kind: 'ack_client_cid' }>;
    expect(toHex(a.cid)).toBe('3132333435363738');
    expect(a.vcid.length).toBeGreaterThanOrEqual(8); // §2.2: at least as long as the CID
    expect(toHex(a.vcid)).not.toBe(toHex(a.cid)); // §2.2: never equal
    expect(log).toEqual(['client+ 3132333435363738']);
    reg.receive({
      kind: 'ack_client_vcid',
      cid: a.cid,
      vcid: fromHex('00'),
      token: new Uint8Array(0),
    });
    expect(log).toHaveLength(1); // not our VCID: ignored
    reg.receive({ kind: 'ack_client_vcid', cid: a.cid, vcid: a.vcid, token: new Uint8Array(0) });
    expect(log.at(-1)).toBe(`fwd-to-client 3132333435363738 via ${toHex(a.vcid)}`);
  });

  it('answers REGISTER_TARGET_CID with a target VCID of the endpoint CID length and our reset token', () => {
    const { reg, log } = setup();
    const [ack] = reg.receive(regTarget('6162636465666768'));
    const a = ack as { kind: string; cid: Uint8Array; vcid: Uint8Array; token: Uint8Array };
    expect(a.kind).toBe('ack_target_cid');
    expect(a.vcid.length).toBe(8);
    expect(a.token).toEqual(new Uint8Array(16).fill(7));
    expect(log).toEqual([
      'target+ 6162636465666768 token 16',
      `fwd-to-target ${toHex(a.vcid)} -> 6162636465666768`,
    ]);
  });

  it('without forwarding: empty VCIDs and tokens (§5.3, §5.4), and ACK_CLIENT_VCID is a violation', () => {
    const { reg } = setup({ forwarding: false });
    expect(reg.receive(regClient('0102030405'))).toEqual([
      { kind: 'ack_client_cid', cid: fromHex('0102030405'), vcid: new Uint8Array(0) },
    ]);
    expect(reg.receive(regTarget('a1a2a3a4'))).toEqual([
      {
        kind: 'ack_target_cid',
        cid: fromHex('a1a2a3a4'),
        vcid: new Uint8Array(0),
        token: new Uint8Array(0),
      },
    ]);
    expect(() =>
      reg.receive({
        kind: 'ack_client_vcid',
        cid: fromHex('0102030405'),
        vcid: fromHex('01'),
        token: new Uint8Array(0),
      }),
    ).toThrow(CapsuleError);
  });

  it('rejects short CIDs with TOO_SHORT and prefix conflicts on a shared socket with CONFLICT (§5.8)', () => {
    const table = new CidMappingTable<Tunnel>();
    const a = setup({}, table);
    const b = setup({ owner: 't2' }, table);
    expect(a.reg.receive(regClient('010203'))).toEqual([
      { kind: 'reject_client_cid', reason: CidReason.TOO_SHORT, cid: fromHex('010203') },
    ]);
    expect(a.reg.receive(regClient('0102030405060708'))[0].kind).toBe('ack_client_cid');
    for (const hex of ['0102030405060708', '01020304', '0102030405060708aa']) {
      expect(b.reg.receive(regClient(hex))).toEqual([
        { kind: 'reject_client_cid', reason: CidReason.CONFLICT, cid: fromHex(hex) },
      ]);
    }
    // On another target-facing socket, the same CID is fine.
    const c = setup({ owner: 't3', socket: 'target-B' }, table);
    expect(c.reg.receive(regClient('0102030405060708'))[0].kind).toBe('ack_client_cid');
    expect(table.routeFromTarget('target-A', fromHex('40 0102030405060708 ffff'))?.owner).toBe(
      't1',
    );
    expect(table.routeFromTarget('target-B', fromHex('40 0102030405060708 ffff'))?.owner).toBe(
      't3',
    );
    expect(table.routeFromTarget('target-A', fromHex('40 0102030405060709 ffff'))).toBeUndefined();
  });

  it('loop detection: a CID we issued as a VCID, or one of our own connection IDs, is refused', () => {
    const table = new CidMappingTable<Tunnel>();
    const a = setup({}, table);
    const [ack] = a.reg.receive(regTarget('6162636465666768'));
    const vcid = (ack as { vcid: Uint8Array }).vcid;
    // A second tunnel (say, whose target is this proxy) registers our VCID as its target CID.
    const b = setup(
      { owner: 't2', socket: 'self', ownCid: (c) => toHex(c) === 'cccccccccccccccc' },
      table,
    );
    expect(b.reg.receive(regTarget(toHex(vcid)))).toEqual([
      { kind: 'reject_target_cid', reason: CidReason.CONFLICT, cid: vcid },
    ]);
    expect(b.reg.receive(regTarget('cccccccccccccccc'))[0].kind).toBe('reject_target_cid');
    expect(b.reg.receive(regClient(toHex(vcid)))[0].kind).toBe('reject_client_cid');
    expect(b.reg.rejected.loop).toBe(3);
    // Once the VCID is withdrawn (its tunnel closed), it is an ordinary CID again.
    a.reg.close();
    expect(table.issuedCount).toBe(0);
  });

  it('sequence numbers: the initial limit is 2; MAX_CONNECTION_IDS grows it; beyond it is a violation', () => {
    const { reg, opening } = setup({ maxActive: 4 });
    expect(opening).toEqual([{ kind: 'max_connection_ids', limit: 4 }]);
    reg.receive(regClient('0000000000000001'));
    reg.receive(regClient('0000000000000002'));
    reg.receive(regClient('0000000000000003'));
    // Active 3 of 4: no new credit until registrations close.
    reg.receive(regClient('0000000000000004'));
    expect(() => reg.receive(regClient('0000000000000005'))).toThrow(CapsuleError);
    const afterClose = [
      ...reg.receive({ kind: 'close_client_cid', reason: 0, cid: fromHex('0000000000000001') }),
      ...reg.receive({ kind: 'close_client_cid', reason: 0, cid: fromHex('0000000000000002') }),
    ];
    expect(afterClose).toEqual([{ kind: 'max_connection_ids', limit: 6 }]);
    const limits: number[] = [];
    for (let i = 0; i < 30; i++) {
      const out = [
        ...reg.receive(regClient(`10${i.toString(16).padStart(14, '0')}`)),
        ...reg.receive({
          kind: 'close_client_cid',
          reason: 0,
          cid: fromHex(`10${i.toString(16).padStart(14, '0')}`),
        }),
      ];
      for (const c of out) if (c.kind === 'max_connection_ids') limits.push(c.limit);
    }
    expect(limits.length).toBeGreaterThan(0);
    expect([...limits].sort((x, y) => x - y)).toEqual(limits); // only ever grows
  });

  it('re-registration gives a new VCID (longer after TOO_SHORT) and, per -09, may not consume a number', () => {
    const { reg, table } = setup({ reregistrationIsFree: true, maxActive: 1 });
    const first = reg.receive(regClient('0102030405060708'))[0] as { vcid: Uint8Array };
    const again = reg.receive(regClient('0102030405060708', CidReason.TOO_SHORT))[0] as {
      vcid: Uint8Array;
    };
    expect(again.vcid.length).toBeGreaterThan(first.vcid.length);
    expect(table.issued(first.vcid)).toBe(false);
    expect(table.issued(again.vcid)).toBe(true);
    for (let i = 0; i < 5; i++) reg.receive(regClient('0102030405060708', CidReason.CONFLICT));
    expect(reg.receive(regClient('1111111111111111'))[0].kind).toBe('ack_client_cid');
    // -08 reading: every registration counts, but a re-registration is never refused for the limit.
    const strict = setup({ maxActive: 1 });
    strict.reg.receive(regClient('0102030405060708'));
    strict.reg.receive(regClient('0102030405060708'));
    expect(strict.reg.receive(regClient('0102030405060708'))[0].kind).toBe('ack_client_cid');
    expect(() => strict.reg.receive(regClient('2222222222222222'))).toThrow(CapsuleError);
  });

  it('client migration removes forwarding rules, keeps registrations (09-delta §2)', () => {
    const { reg, log } = setup();
    const a = reg.receive(regClient('0102030405060708'))[0] as {
      cid: Uint8Array;
      vcid: Uint8Array;
    };
    reg.receive({ kind: 'ack_client_vcid', cid: a.cid, vcid: a.vcid, token: new Uint8Array(0) });
    reg.receive(regTarget('6162636465666768'));
    log.length = 0;
    reg.detachForwarding();
    expect(log).toEqual([
      'fwd-to-client off 0102030405060708',
      'fwd-to-target off 6162636465666768',
    ]);
    expect(reg.active).toBe(2);
  });

  it('CLOSE from the client removes mappings; unknown CIDs are ignored; close() releases all', () => {
    const { reg, table, log } = setup();
    reg.receive(regClient('0102030405060708'));
    reg.receive(regTarget('6162636465666768'));
    reg.receive({ kind: 'close_target_cid', reason: 0, cid: fromHex('99999999') });
    reg.receive({ kind: 'close_client_cid', reason: 0, cid: fromHex('0102030405060708') });
    expect(table.clientCidCount('target-A')).toBe(0);
    reg.close();
    expect(table.issuedCount).toBe(0);
    expect(log.filter((l) => l.startsWith('target-'))).toEqual(['target- 6162636465666768']);
  });

  it('any capsule sequence either answers or throws CapsuleError, and leaves the table consistent', () => {
    const cid = fc.uint8Array({ minLength: 0, maxLength: 10 });
    const capsule = fc.oneof(
      cid.map((c) => regClient(toHex(c))),
      cid.map((c) => regTarget(toHex(c))),
      cid.map((c): QuicProxyCapsule => ({ kind: 'close_client_cid', reason: 0, cid: c })),
      cid.map((c): QuicProxyCapsule => ({ kind: 'close_target_cid', reason: 0, cid: c })),
      fc.tuple(cid, cid).map(
        ([c, v]): QuicProxyCapsule => ({
          kind: 'ack_client_vcid',
          cid: c,
          vcid: v,
          token: new Uint8Array(0),
        }),
      ),
    );
    fc.assert(
      fc.property(fc.array(capsule, { maxLength: 30 }), (caps) => {
        const table = new CidMappingTable<Tunnel>();
        const { reg } = setup({ minCidLength: 1 }, table);
        for (const c of caps) {
          try {
            reg.receive(c);
          } catch (err) {
            expect(err).toBeInstanceOf(CapsuleError);
            break;
          }
        }
        reg.close();
        expect(table.issuedCount).toBe(0);
        expect(table.clientCidCount('target-A')).toBe(0);
      }),
    );
  });
});

describe('cidKey', () => {
  it('is lowercase hex', () => {
    expect(cidKey(fromHex('00ff0a'))).toBe('00ff0a');
  });
});
