/**
 * The system resolver (getaddrinfo, resolver-system.ts): /etc/hosts is read (`localhost`), the
 * family asked is the family answered, getaddrinfo's errors map to Proxy-Status as the module
 * says, and a lookup that never answers fails as dns_timeout (504) at the configured timeout.
 */
import type { LookupAddress } from 'node:dns';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseTarget, resolveTarget, TargetPolicy } from '../../../src/masque/connect-udp/index.js';
import {
  createSystemResolver,
  type SystemLookup,
} from '../../../src/masque/connect-udp/resolver-system.js';

const policy = new TargetPolicy([], { allowSpecial: true });

/** A lookup answering from a table, recording each call. */
function tableLookup(table: Record<string, LookupAddress[] | { code: string }>) {
  const calls: string[] = [];
  const lookup: SystemLookup = async (name, o) => {
    calls.push(`${name}/${o.family}`);
    const e = table[name];
    if (e === undefined) throw Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' });
    if (!Array.isArray(e)) throw Object.assign(new Error(e.code), { code: e.code });
    return e.filter((a) => a.family === o.family);
  };
  return { lookup, calls };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('createSystemResolver', () => {
  it('resolves localhost from /etc/hosts (c-ares would say NXDOMAIN)', async () => {
    const r = createSystemResolver();
    expect(await r.resolve4('localhost')).toContain('127.0.0.1');
  });

  it('asks getaddrinfo for one family at a time and lists each address once', async () => {
    const { lookup, calls } = tableLookup({
      'dual.test': [
        { address: '192.0.2.1', family: 4 },
        { address: '192.0.2.1', family: 4 },
        { address: '2001:db8::1', family: 6 },
      ],
    });
    const r = createSystemResolver({ lookup });
    expect(await r.resolve4('dual.test')).toEqual(['192.0.2.1']);
    expect(await r.resolve6('dual.test')).toEqual(['2001:db8::1']);
    expect(calls).toEqual(['dual.test/4', 'dual.test/6']);
  });

  it.each([
    ['missing.test', 502, 'dns_error', { details: 'no address for the name' }],
    ['again.test', 502, 'dns_error', { details: 'EAI_AGAIN' }],
    ['fail.test', 502, 'dns_error', { details: 'EAI_FAIL' }],
  ])('%s -> %d %s, and no RCODE claimed', async (name, status, error, extra) => {
    const { lookup } = tableLookup({
      'again.test': { code: 'EAI_AGAIN' },
      'fail.test': { code: 'EAI_FAIL' },
    });
    const r = await resolveTarget(parseTarget(name, '53'), {
      resolver: createSystemResolver({ lookup }),
      policy,
      proxyName: 'p',
    });
    expect(r).toMatchObject({ ok: false, status, error, proxyStatus: extra });
    if (!r.ok) expect(r.proxyStatus.rcode).toBeUndefined();
  });

  it('uses the family that has addresses when the other has none', async () => {
    const { lookup } = tableLookup({ 'v4only.test': [{ address: '192.0.2.7', family: 4 }] });
    const r = await resolveTarget(parseTarget('v4only.test', '53'), {
      resolver: createSystemResolver({ lookup }),
      policy,
      proxyName: 'p',
    });
    expect(r.ok && r.addresses).toEqual([{ address: '192.0.2.7', family: 4 }]);
  });

  it('a lookup that never answers: ETIMEOUT at timeoutMs, then 504 dns_timeout', async () => {
    vi.useFakeTimers();
    const never: SystemLookup = () => new Promise<LookupAddress[]>(() => {});
    const resolver = createSystemResolver({ lookup: never, timeoutMs: 3000 });
    const pending = resolveTarget(parseTarget('hung.test', '53'), {
      resolver,
      policy,
      proxyName: 'p',
    });
    const alone = resolver.resolve4('hung.test');
    const rejected = expect(alone).rejects.toMatchObject({ code: 'ETIMEOUT' });
    await vi.advanceTimersByTimeAsync(2999);
    let settled = false;
    void pending.then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await rejected;
    expect(await pending).toMatchObject({ ok: false, status: 504, error: 'dns_timeout' });
  });

  it('runs at most maxInFlight lookups at once; one that times out waiting never starts', async () => {
    vi.useFakeTimers();
    const started: string[] = [];
    const answers = new Map<string, (a: LookupAddress[]) => void>();
    const lookup: SystemLookup = (name) =>
      new Promise<LookupAddress[]>((resolve) => {
        started.push(name);
        answers.set(name, resolve);
      });
    const r = createSystemResolver({ lookup, timeoutMs: 1000, maxInFlight: 2 });
    const a = r.resolve4('a.test');
    const b = r.resolve4('b.test');
    const c = r.resolve4('c.test');
    const d = r.resolve4('d.test');
    expect(started).toEqual(['a.test', 'b.test']);
    answers.get('a.test')?.([{ address: '192.0.2.1', family: 4 }]);
    expect(await a).toEqual(['192.0.2.1']);
    expect(started).toEqual(['a.test', 'b.test', 'c.test']);
    const cRejects = expect(c).rejects.toMatchObject({ code: 'ETIMEOUT' });
    const dRejects = expect(d).rejects.toMatchObject({ code: 'ETIMEOUT' });
    const bRejects = expect(b).rejects.toMatchObject({ code: 'ETIMEOUT' });
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all([bRejects, cRejects, dRejects]);
    // b and c hang on in getaddrinfo; d timed out waiting and was never started.
    expect(started).toEqual(['a.test', 'b.test', 'c.test']);
    answers.get('b.test')?.([]);
    await Promise.resolve();
    expect(started).toEqual(['a.test', 'b.test', 'c.test']);
  });
});
