/**
 * Proves the Chromium harness against quic-go's h3server: the browser loads a page straight
 * over HTTP/3 (no TCP, no Alt-Svc), accepting our dev certificate by its SPKI pin.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevCert, generateDevCert } from '../../src/tls/certs/dev-cert.js';
import { type ChromiumForQuic, chromiumBinary, launchChromiumForQuic } from './chromium.js';
import { QUIC_GO_HELLO_BODY, type QuicGoServer, startQuicGoServer } from './quic-go-peer.js';

let dir: string;
let cert: DevCert;
let h3: QuicGoServer | undefined;
let browser: ChromiumForQuic | undefined;

beforeAll(async () => {
  chromiumBinary(); // a missing Debian package fails here, naming it
  dir = mkdtempSync(join(tmpdir(), 'chromium-interop-'));
  cert = generateDevCert();
  writeFileSync(join(dir, 'cert.pem'), cert.certPem);
  writeFileSync(join(dir, 'key.pem'), cert.keyPem, { mode: 0o600 });
  h3 = await startQuicGoServer({
    mode: 'h3server',
    flags: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') },
  });
  browser = await launchChromiumForQuic({
    origin: `localhost:${h3.port}`,
    spkiHash: cert.spkiSha256,
  });
}, 45_000);

afterAll(async () => {
  await browser?.close();
  await h3?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Chromium → quic-go h3server', () => {
  it('loads https://localhost:PORT/hello over HTTP/3', async () => {
    const r = await browser?.fetchOverH3(`https://localhost:${h3?.port}/hello`);
    expect(r).toMatchObject({ status: 200, body: QUIC_GO_HELLO_BODY, protocol: 'h3' });
    expect(r?.headers['content-type']).toBe('text/plain');
  });

  it('runs script on the origin: fetch() POST /echo goes over h3 too', async () => {
    const r = await browser?.runInPage(
      `https://localhost:${h3?.port}/hello`,
      async (n: number) => {
        const body = new Uint8Array(n).map((_, i) => (i * 7) & 0xff);
        const res = await fetch('/echo', { method: 'POST', body });
        const echoed = new Uint8Array(await res.arrayBuffer());
        const same = echoed.length === n && echoed.every((b, i) => b === ((i * 7) & 0xff));
        const perf = performance as unknown as {
          getEntriesByType(type: string): { nextHopProtocol?: string }[];
        };
        const entries = perf.getEntriesByType('resource');
        return { status: res.status, same, protocol: entries.at(-1)?.nextHopProtocol };
      },
      100_000,
    );
    expect(r).toEqual({ status: 200, same: true, protocol: 'h3' });
  });

  it('was launched with the QUIC and certificate switches', () => {
    expect(browser?.args).toEqual(
      expect.arrayContaining([
        '--enable-quic',
        `--origin-to-force-quic-on=localhost:${h3?.port}`,
        `--ignore-certificate-errors-spki-list=${cert.spkiSha256}`,
        '--host-resolver-rules=MAP localhost 127.0.0.1',
        '--no-sandbox',
      ]),
    );
  });

  it('refuses the server when the SPKI pin does not match', async () => {
    const other = generateDevCert();
    const wrong = await launchChromiumForQuic({
      origin: `127.0.0.1:${h3?.port}`,
      spkiHash: other.spkiSha256,
    });
    try {
      await expect(wrong.fetchOverH3(`https://127.0.0.1:${h3?.port}/hello`, 8000)).rejects.toThrow(
        /ERR_QUIC_PROTOCOL_ERROR|ERR_CERT|ERR_QUIC_HANDSHAKE_FAILED/,
      );
    } finally {
      await wrong.close();
    }
  }, 20_000);
});
