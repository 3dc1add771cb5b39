/**
 * Debian's Chromium against our H3Server: the browser loads a page straight over HTTP/3 (QUIC
 * forced for the origin, our ECDSA P-256 dev certificate accepted by its SPKI pin), and a
 * script on that page POSTs 100 kB with fetch() and checks the echo. The server's handler
 * records each request, so both ends confirm HTTP/3. The whole exchange is captured on
 * loopback with tshark; with our server's NSS key log every QUIC packet must decrypt.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChromiumForQuic, chromiumBinary, launchChromiumForQuic } from './chromium.js';
import {
  OURS_HELLO_BODY,
  OURS_INDEX_HTML,
  type OursH3Server,
  sha256Hex,
  startOursH3Server,
} from './ours-h3-server.js';
import {
  analyseQuicCapture,
  type Capture,
  captureLoopback,
  type QuicCaptureAnalysis,
  tsharkBinary,
} from './tshark.js';

const POST_BYTES = 100_000;

/** The body the page POSTs (built in the page with the same formula). */
const postBody = (n: number): Uint8Array =>
  new Uint8Array(n).map((_, i) => (i * 13 + (i >> 8)) & 0xff);

/** What the browser side reported. */
interface BrowserRun {
  index: { status: number; body: string; protocol: string; headers: Record<string, string> };
  hello: { status: number; body: string; protocol: string };
  post: { status: number; length: number; sha256: string; sentSha256: string; protocol?: string };
}

let dir: string;
let keylog: string;
let ours: OursH3Server | undefined;
let browser: ChromiumForQuic | undefined;
let capture: Capture<BrowserRun> | undefined;
let analysis: QuicCaptureAnalysis | undefined;
let failed = false;

beforeAll(async () => {
  chromiumBinary(); // a missing Debian package fails here, naming it
  tsharkBinary();
  dir = mkdtempSync(join(tmpdir(), 'ours-h3-chromium-'));
  keylog = join(dir, 'ours-server-keys.log');
  ours = await startOursH3Server({ keylogFile: keylog });
  const port = ours.port;
  const origin = `https://localhost:${port}`;
  try {
    // The capture starts before the browser exists, so it holds the connection's first Initial.
    capture = await captureLoopback(
      { ports: [port], pcapFile: join(dir, 'chromium.pcapng'), settleMs: 300 },
      async (): Promise<BrowserRun> => {
        browser = await launchChromiumForQuic({
          origin: `localhost:${port}`,
          spkiHash: ours?.cert.spkiSha256 ?? '',
        });
        const index = await browser.fetchOverH3(`${origin}/`);
        const hello = await browser.fetchOverH3(`${origin}/hello`);
        const post = await browser.runInPage(
          `${origin}/`,
          async (n: number) => {
            // Same bytes as postBody() on the Node side.
            const body = new Uint8Array(n).map((_, i) => (i * 13 + (i >> 8)) & 0xff);
            const hex = async (b: Uint8Array): Promise<string> =>
              [...new Uint8Array(await crypto.subtle.digest('SHA-256', b))]
                .map((x) => x.toString(16).padStart(2, '0'))
                .join('');
            const res = await fetch('/echo', { method: 'POST', body });
            const echoed = new Uint8Array(await res.arrayBuffer());
            const perf = performance as unknown as {
              getEntriesByType(type: string): { name: string; nextHopProtocol?: string }[];
            };
            const entry = perf.getEntriesByType('resource').find((e) => e.name.endsWith('/echo'));
            return {
              status: res.status,
              length: echoed.length,
              sha256: await hex(echoed),
              sentSha256: await hex(body),
              protocol: entry?.nextHopProtocol,
            };
          },
          POST_BYTES,
          20_000,
        );
        await browser.close();
        return { index, hello, post };
      },
    );
  } catch (err) {
    failed = true;
    throw err;
  }
  analysis = await analyseQuicCapture(capture.pcapFile, keylog, { quicPorts: [port] });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await ours?.close();
  if (failed) process.stderr.write(`ours-h3-chromium: capture and key log kept in ${dir}\n`);
  else if (dir) rmSync(dir, { recursive: true, force: true });
});

function keepOnFailure(check: () => void): void {
  try {
    check();
  } catch (err) {
    failed = true;
    throw err;
  }
}

describe('Chromium → our H3Server', () => {
  it('loads our page over HTTP/3 (nextHopProtocol h3)', () => {
    keepOnFailure(() => {
      expect(capture?.value.index).toMatchObject({
        status: 200,
        body: OURS_INDEX_HTML,
        protocol: 'h3',
      });
      expect(capture?.value.index.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(capture?.value.hello).toMatchObject({
        status: 200,
        body: OURS_HELLO_BODY,
        protocol: 'h3',
      });
    });
  });

  it('our server handled those requests itself (Chromium user agent, our authority)', () => {
    const port = ours?.port ?? 0;
    const gets = ours?.seen.filter((s) => s.method === 'GET' && s.path !== '/favicon.ico');
    keepOnFailure(() => {
      expect(gets?.map((s) => s.path)).toEqual(['/', '/hello', '/']);
      for (const s of gets ?? []) {
        expect(s).toMatchObject({ scheme: 'https', authority: `localhost:${port}`, status: 200 });
        expect(s.userAgent).toMatch(/Chrome\//);
        // Client-initiated bidirectional stream (RFC 9000 §2.1): ID ≡ 0 (mod 4).
        expect(s.streamId % 4).toBe(0);
      }
    });
  });

  it('fetch() POST of 100 kB from the page is echoed intact, over h3', () => {
    const post = capture?.value.post;
    keepOnFailure(() => {
      expect(post).toMatchObject({ status: 200, length: POST_BYTES, protocol: 'h3' });
      const want = sha256Hex(postBody(POST_BYTES));
      expect(post?.sentSha256).toBe(want);
      expect(post?.sha256).toBe(want);
      expect(ours?.seen.filter((s) => s.path === '/echo')).toEqual([
        expect.objectContaining({
          method: 'POST',
          bodyBytes: POST_BYTES,
          bodySha256: want,
          status: 200,
        }),
      ]);
    });
  });
});

describe('tshark on the Chromium ↔ masque capture', () => {
  it('captured Initial, Handshake and 1-RTT packets', () => {
    keepOnFailure(() => {
      expect(analysis?.byKind.initial.packets).toBeGreaterThanOrEqual(2);
      expect(analysis?.byKind.handshake.packets).toBeGreaterThanOrEqual(2);
      expect(analysis?.byKind['1rtt'].packets).toBeGreaterThan(50);
      expect(analysis?.byKind.unknown.packets).toBe(0);
      expect(analysis?.nonQuicFrames).toBe(0);
    });
  });

  it('every QUIC packet decrypts with our server key log; none is malformed', () => {
    keepOnFailure(() => {
      expect(analysis?.undecryptablePackets).toEqual([]);
      expect(analysis?.undecryptable).toBe(0);
      expect(analysis?.decrypted).toBe((analysis?.packets ?? 0) - (analysis?.unprotected ?? 0));
      expect(analysis?.malformedFrames).toEqual([]);
      // No expert error nor warning either (tshark flags e.g. bad frame encodings there).
      expect(analysis?.expert).toEqual([]);
      expect(readFileSync(keylog, 'utf8')).toMatch(/^SERVER_TRAFFIC_SECRET_0 /m);
    });
  });
});
