/**
 * Many requests on one connection over loopback: 1,000 requests, at most 100 in flight, bodies
 * from 0 bytes to 10 MiB in both directions (uploads hashed by the server, downloads generated
 * by it, mid-size bodies echoed), every body checked by SHA-256.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../src/util/random.js';
import { closeAll, connectClient, pattern, sha256, startServer } from './setup.js';

afterEach(closeAll);

const MiB = 1024 * 1024;

type Job = { kind: 'upload' | 'download' | 'echo'; size: number; seed: number };

/** 1,000 jobs: four of 10 MiB, 24 between 64 KiB and 1 MiB, the rest up to 16 KiB (some empty). */
function jobs(): Job[] {
  const rng = new SeededRandom(2024);
  const kinds = ['upload', 'download', 'echo'] as const;
  const out: Job[] = [
    { kind: 'upload', size: 10 * MiB, seed: 1 },
    { kind: 'download', size: 10 * MiB, seed: 2 },
    { kind: 'upload', size: 10 * MiB, seed: 3 },
    { kind: 'download', size: 10 * MiB, seed: 4 },
  ];
  for (let i = 0; i < 24; i++) {
    out.push({ kind: kinds[i % 3], size: 64 * 1024 + (rng.nextU32() % MiB), seed: 100 + i });
  }
  while (out.length < 1000) {
    const i = out.length;
    const size = i % 10 === 0 ? 0 : rng.nextU32() % (16 * 1024);
    out.push({ kind: kinds[rng.nextU32() % 3], size, seed: 1000 + i });
  }
  return out;
}

describe('1,000 requests on one connection', () => {
  it('100 at a time, 0 B to 10 MiB bodies both ways, all verified by SHA-256', async () => {
    const server = await startServer();
    server.onRequest(async (req, res) => {
      const url = new URL(req.path ?? '/', 'https://x');
      if (url.pathname === '/upload') {
        const body = await req.bytes();
        res.writeHead(200, { 'x-size': String(body.length) });
        res.end(sha256(body));
      } else if (url.pathname === '/download') {
        const data = pattern(
          Number(url.searchParams.get('size')),
          Number(url.searchParams.get('seed')),
        );
        res.writeHead(200);
        for (let off = 0; off < data.length; off += 64 * 1024) {
          if (!res.write(data.subarray(off, off + 64 * 1024))) await res.drained();
        }
        res.end();
      } else {
        res.writeHead(200);
        for await (const chunk of req) if (!res.write(chunk)) await res.drained();
        res.end();
      }
    });
    const client = await connectClient(server);
    const all = jobs();
    let next = 0;
    let done = 0;
    let maxInFlight = 0;
    let inFlight = 0;
    const t0 = performance.now();
    async function run(job: Job): Promise<void> {
      if (job.kind === 'download') {
        const res = await client.request({ path: `/download?size=${job.size}&seed=${job.seed}` });
        expect(sha256(await res.bytes())).toBe(sha256(pattern(job.size, job.seed)));
      } else {
        const body = pattern(job.size, job.seed);
        const res = await client.request({ method: 'POST', path: `/${job.kind}`, body });
        const got = await res.bytes();
        if (job.kind === 'upload') expect(new TextDecoder().decode(got)).toBe(sha256(body));
        else expect(sha256(got)).toBe(sha256(body));
      }
    }
    async function worker(): Promise<void> {
      while (next < all.length) {
        const job = all[next++];
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await run(job);
        inFlight--;
        done++;
      }
    }
    await Promise.all(Array.from({ length: 100 }, worker));
    const ms = performance.now() - t0;
    expect(done).toBe(1000);
    expect(maxInFlight).toBe(100);
    expect(server.stats().requestsTotal).toBe(1000);
    // Recorded for the report: wall time of the whole run.
    process.stdout.write(`1,000 requests (40 MiB in large bodies) in ${ms.toFixed(0)} ms\n`);
  }, 90_000);
});
