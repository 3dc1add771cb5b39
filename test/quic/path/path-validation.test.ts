import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PathResponder, PathValidator } from '../../../src/quic/path/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { toHex } from '../../../src/wire/index.js';

const PTO = 100;

describe('path validation (RFC 9000 §8.2)', () => {
  it('a PATH_RESPONSE echoing the challenge data validates the path', () => {
    const v = new PathValidator(new SeededRandom(1));
    expect(v.state).toBe('idle');
    v.start(1000, PTO);
    const data = v.pollChallenge(1000, true)!;
    expect(data).toHaveLength(8);
    expect(v.onResponse(data.slice())).toBe('validated');
    expect(v.state).toBe('validated');
    expect(v.deadline()).toBeUndefined();
  });

  it('a response with other data does not validate (and may be ignored)', () => {
    const v = new PathValidator(new SeededRandom(1));
    v.start(0, PTO);
    const data = v.pollChallenge(0, true)!;
    const wrong = data.slice();
    wrong[7] ^= 1;
    expect(v.onResponse(wrong)).toBe('no-match');
    expect(v.state).toBe('validating');
  });

  it('a challenge in a datagram under 1200 bytes validates the address but not the MTU', () => {
    const v = new PathValidator(new SeededRandom(1));
    v.start(0, PTO);
    const data = v.pollChallenge(0, false)!;
    expect(v.onResponse(data)).toBe('validated-mtu-unverified');
  });

  it('repeats the challenge once per PTO with fresh unpredictable data, up to the retry count', () => {
    const v = new PathValidator(new SeededRandom(2), { maxChallenges: 3 });
    v.start(0, PTO);
    const first = v.pollChallenge(0, true)!;
    expect(v.pollChallenge(50, true)).toBeUndefined();
    expect(v.deadline()).toBe(100);
    const second = v.pollChallenge(100, true)!;
    const third = v.pollChallenge(200, true)!;
    expect(new Set([first, second, third].map(toHex)).size).toBe(3);
    expect(v.pollChallenge(300, true)).toBeUndefined();
    expect(v.challengesSent).toBe(3);
    // A response to an earlier challenge still counts (the first may just have been slow).
    expect(v.onResponse(first)).toBe('validated');
  });

  it('fails after three times the PTO without a matching response', () => {
    const v = new PathValidator(new SeededRandom(3));
    v.start(1000, PTO);
    v.pollChallenge(1000, true);
    v.pollChallenge(1100, true);
    v.pollChallenge(1200, true);
    expect(v.deadline()).toBe(1300);
    expect(v.onTimeout(1299)).toBe(false);
    expect(v.onTimeout(1300)).toBe(true);
    expect(v.state).toBe('failed');
    expect(v.onTimeout(1400)).toBe(false);
    expect(v.pollChallenge(1400, true)).toBeUndefined();
  });

  it('a response arriving after failure or abandonment validates nothing', () => {
    const v = new PathValidator(new SeededRandom(4));
    v.start(0, PTO);
    const data = v.pollChallenge(0, true)!;
    v.abandon();
    expect(v.state).toBe('idle');
    expect(v.onResponse(data)).toBe('no-match');
    v.start(10, PTO);
    expect(v.onResponse(data)).toBe('no-match'); // Old data is forgotten on restart.
  });

  it('validation succeeds for the sent data and nothing else, whatever the timing', () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(fc.nat(400), { maxLength: 10 }), (seed, times) => {
        const v = new PathValidator(new SeededRandom(seed));
        v.start(0, PTO);
        const sent: Uint8Array[] = [];
        let now = 0;
        for (const dt of times) {
          now += dt;
          v.onTimeout(now);
          const d = v.pollChallenge(now, true);
          if (d) sent.push(d);
        }
        expect(sent.length).toBeLessThanOrEqual(3);
        const forged = new Uint8Array(8).fill(seed & 0xff);
        const forgedMatches = sent.some((d) => toHex(d) === toHex(forged));
        const result = v.onResponse(forged);
        if (v.state === 'failed') expect(result).toBe('no-match');
        else expect(result === 'validated').toBe(forgedMatches);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('answering PATH_CHALLENGE (RFC 9000 §8.2.2)', () => {
  it('echoes each challenge exactly once', () => {
    const r = new PathResponder();
    const packet = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    r.onChallenge(packet.subarray(1));
    packet.fill(0); // The packet buffer is reused: the data was copied.
    expect(r.pollResponse()).toEqual(new Uint8Array([2, 3, 4, 5, 6, 7, 8, 9]));
    expect(r.pollResponse()).toBeUndefined();
  });

  it('under a flood keeps only the most recent challenges', () => {
    const r = new PathResponder(2);
    for (let i = 0; i < 10; i++) r.onChallenge(new Uint8Array(8).fill(i));
    expect(r.pending).toBe(2);
    expect(r.pollResponse()?.[0]).toBe(8);
    expect(r.pollResponse()?.[0]).toBe(9);
  });

  it('answers on the path the challenge came from, even one the connection did not move to', () => {
    const r = new PathResponder();
    r.onChallenge(new Uint8Array(8).fill(1), '192.0.2.1:4433', 1200); // the current path
    r.onChallenge(new Uint8Array(8).fill(2), '192.0.2.1:5555', 1200); // a probe from a new port
    // In-band responses are for the current path only...
    expect(r.pollResponse('192.0.2.1:4433')?.[0]).toBe(1);
    expect(r.pollResponse('192.0.2.1:4433')).toBeUndefined();
    // ... the other goes out on its own path, with what bounds its size there.
    expect(r.takeOffPath('192.0.2.1:4433')).toEqual({
      data: new Uint8Array(8).fill(2),
      remote: '192.0.2.1:5555',
      datagramSize: 1200,
    });
    expect(r.takeOffPath('192.0.2.1:4433')).toBeUndefined();
    expect(r.pending).toBe(0);
  });
});
