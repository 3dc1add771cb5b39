import { describe, expect, it } from 'vitest';
import { DynamicTable, entrySize, QpackError, QpackErrorCode } from '../../src/qpack/index.js';

function qpackCode(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof QpackError) return e.code;
    throw e;
  }
}

describe('dynamic table (RFC 9204 §3.2)', () => {
  it('sizes entries as name + value + 32 and evicts oldest first', () => {
    const t = new DynamicTable(100);
    expect(t.maxEntries).toBe(3);
    expect(entrySize('ab', 'cde')).toBe(37);
    t.setCapacity(100);
    expect(t.insert('a', '1')).toBe(0); // 34
    expect(t.insert('b', '22')).toBe(1); // 35
    expect(t.size).toBe(69);
    expect(t.insert('c', '333')).toBe(2); // 36: 105 > 100, evicts 0
    expect(t.droppedCount).toBe(1);
    expect(t.insertCount).toBe(3);
    expect(t.size).toBe(71);
    expect(t.get(0)).toBeUndefined();
    expect(t.get(1)).toMatchObject({ name: 'b', value: '22', size: 35 });
    expect(t.get(3)).toBeUndefined();
    // Reducing the capacity evicts until the size fits; 0 clears the table.
    t.setCapacity(40);
    expect(t.snapshot().map((e) => e.absolute)).toEqual([2]);
    t.setCapacity(0);
    expect(t.length).toBe(0);
    expect(t.insertCount).toBe(3);
  });

  it('resolves relative indices on the encoder stream and finds the newest match', () => {
    const t = new DynamicTable(1000);
    t.setCapacity(1000);
    t.insert('x', '1');
    t.insert('y', '2');
    t.insert('x', '1');
    expect(t.absoluteFromInsertionRelative(0)).toBe(2);
    expect(t.absoluteFromInsertionRelative(2)).toBe(0);
    expect(t.absoluteFromInsertionRelative(3)).toBe(-1);
    expect(t.insertionRelative(0)).toBe(2);
    expect(t.findField('x', '1')).toBe(2);
    expect(t.findName('y')).toBe(1);
    expect(t.findField('x', '2')).toBeUndefined();
  });

  it('forgets lookups of evicted entries but keeps newer duplicates', () => {
    const t = new DynamicTable(70);
    t.setCapacity(70);
    t.insert('n', 'v'); // 34
    t.insert('n', 'v'); // 34
    t.insert('m', 'w'); // evicts 0
    expect(t.findField('n', 'v')).toBe(1);
    t.insert('o', 'z'); // evicts 1
    expect(t.findField('n', 'v')).toBeUndefined();
    expect(t.findName('n')).toBeUndefined();
    expect(t.findName('m')).toBe(2);
  });

  it('rejects capacity above the maximum and entries above the capacity (encoder stream errors)', () => {
    const t = new DynamicTable(100);
    expect(qpackCode(() => t.setCapacity(101))).toBe(QpackErrorCode.QPACK_ENCODER_STREAM_ERROR);
    t.setCapacity(50);
    expect(qpackCode(() => t.insert('a'.repeat(10), 'b'.repeat(9)))).toBe(
      QpackErrorCode.QPACK_ENCODER_STREAM_ERROR,
    );
    expect(t.insert('a'.repeat(10), 'b'.repeat(8))).toBe(0); // exactly 50
  });

  it('when tracking, only acknowledged unreferenced entries are evictable (§2.1.1)', () => {
    const t = new DynamicTable(100, { tracking: true });
    t.setCapacity(100);
    t.insert('a', '1'); // 34
    t.insert('b', '2'); // 34, total 68
    // Unacknowledged: nothing can be evicted.
    expect(t.isEvictable(0)).toBe(false);
    expect(t.canInsert(34)).toBe(false);
    expect(t.canInsert(32)).toBe(true);
    expect(() => t.insert('c', '3')).toThrow(/unevictable/);
    expect(() => t.setCapacity(50)).toThrow(/unevictable/);
    expect(t.incrementKnownReceived(3)).toBe(false);
    expect(t.incrementKnownReceived(1)).toBe(true);
    expect(t.knownReceivedCount).toBe(1);
    t.addRef(0);
    expect(t.refs(0)).toBe(1);
    expect(t.canInsert(34)).toBe(false);
    t.releaseRef(0);
    expect(t.canInsert(34)).toBe(true);
    expect(t.insert('c', '3')).toBe(2);
    expect(t.snapshot().map((e) => e.absolute)).toEqual([1, 2]);
    t.acknowledgeUpTo(3);
    t.acknowledgeUpTo(2);
    expect(t.knownReceivedCount).toBe(3);
    expect(() => t.releaseRef(1)).toThrow(/unreferenced/);
  });

  it('keeps absolute indices stable across many evictions (internal compaction)', () => {
    const t = new DynamicTable(200);
    t.setCapacity(200);
    for (let i = 0; i < 1000; i++) {
      expect(t.insert('k', String(i))).toBe(i);
      expect(t.get(i)?.value).toBe(String(i));
    }
    const snap = t.snapshot();
    expect(snap[snap.length - 1]).toMatchObject({ absolute: 999, value: '999' });
    expect(t.get(t.droppedCount)?.value).toBe(String(t.droppedCount));
    expect(t.size).toBe(snap.reduce((s, e) => s + e.size, 0));
  });
});
