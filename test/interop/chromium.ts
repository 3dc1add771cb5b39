/**
 * Launches Debian's Chromium (package `chromium`, /usr/bin/chromium) through playwright-core
 * (never a downloaded browser) with QUIC forced on for one origin and a self-signed certificate
 * accepted by its SPKI pin, so a page load goes straight over HTTP/3 without a TCP/Alt-Svc
 * first hop.
 *
 * What Chromium needed (v156, found by experiment against quic-go's h3server):
 * - `--origin-to-force-quic-on=localhost:PORT` plus `--host-resolver-rules=MAP localhost
 *   127.0.0.1`: without the mapping, localhost resolves to ::1 first and a server bound to
 *   127.0.0.1 only fails with net::ERR_QUIC_HANDSHAKE_FAILED. `127.0.0.1:PORT` works unmapped.
 * - `--ignore-certificate-errors-spki-list=<base64 SHA-256 of the SPKI>`. With it, validity is
 *   not checked (a 400-day and an already expired certificate both loaded); ECDSA P-256 and
 *   RSA-2048 keys work, Ed25519 does not (Chromium offers no ed25519 signature scheme:
 *   net::ERR_QUIC_PROTOCOL_ERROR). A wrong pin gives net::ERR_QUIC_PROTOCOL_ERROR.
 * - `--no-sandbox` (running as root). Playwright itself adds `--headless` and a fresh temporary
 *   `--user-data-dir` (playwright_chromiumdev_profile-*, removed on close); it refuses a
 *   `--user-data-dir` in `args` (that is `launchPersistentContext`'s job).
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Path of Debian's Chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** The Chromium binary, or an error naming the Debian package. */
export function chromiumBinary(): string {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: install the Debian package "chromium" ` +
        '(apt-get install chromium, or npm run setup)',
    );
  }
  return CHROMIUM_PATH;
}

/** Options of {@link launchChromiumForQuic}. */
export interface ChromiumQuicOptions {
  /** `host:port` to force QUIC on, e.g. `localhost:4433` or `127.0.0.1:4433`. */
  origin: string;
  /** base64 SHA-256 of the server's SubjectPublicKeyInfo (`DevCert.spkiSha256`); several allowed. */
  spkiHash: string | readonly string[];
  /** More Chromium switches. */
  extraArgs?: readonly string[];
  /** Launch timeout (default 20 s). */
  launchTimeoutMs?: number;
}

/** What {@link ChromiumForQuic.fetchOverH3} saw. */
export interface H3PageResult {
  /** HTTP status of the navigation response. */
  status: number;
  /** Response body as text. */
  body: string;
  /** `performance.getEntriesByType('navigation')[0].nextHopProtocol`: "h3" over HTTP/3. */
  protocol: string;
  /** Response headers (lower-case names). */
  headers: Record<string, string>;
}

/** A launched browser plus helpers. */
export interface ChromiumForQuic {
  /** The playwright Browser. */
  browser: Browser;
  /** The Chromium switches it was launched with (for reports). */
  args: readonly string[];
  /** Loads `url` in a fresh page and reports status, body and next-hop protocol. */
  fetchOverH3(url: string, timeoutMs?: number): Promise<H3PageResult>;
  /**
   * Opens `url` (a page on the origin, so scripts run in its security context: fetch,
   * WebTransport) and evaluates `fn(arg)` there.
   */
  runInPage<R, A>(
    url: string,
    fn: (arg: A) => R | Promise<R>,
    arg: A,
    timeoutMs?: number,
  ): Promise<R>;
  /** Closes the browser (idempotent). */
  close(): Promise<void>;
}

/** The Chromium switches {@link launchChromiumForQuic} passes. */
export function chromiumQuicArgs(opts: ChromiumQuicOptions): string[] {
  const pins = typeof opts.spkiHash === 'string' ? [opts.spkiHash] : opts.spkiHash;
  const args = [
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--enable-quic',
    `--origin-to-force-quic-on=${opts.origin}`,
    `--ignore-certificate-errors-spki-list=${pins.join(',')}`,
  ];
  if (opts.origin.startsWith('localhost:')) {
    args.push('--host-resolver-rules=MAP localhost 127.0.0.1');
  }
  args.push(...(opts.extraArgs ?? []));
  return args;
}

async function withPage<R>(browser: Browser, use: (page: Page) => Promise<R>): Promise<R> {
  const context = await browser.newContext();
  try {
    return await use(await context.newPage());
  } finally {
    await context.close();
  }
}

/** Launches headless Chromium set up to reach `origin` over HTTP/3. */
export async function launchChromiumForQuic(opts: ChromiumQuicOptions): Promise<ChromiumForQuic> {
  const executablePath = chromiumBinary();
  const args = chromiumQuicArgs(opts);
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args,
    timeout: opts.launchTimeoutMs ?? 20_000,
  });
  let closing: Promise<void> | undefined;
  return {
    browser,
    args,
    fetchOverH3: (url, timeoutMs = 10_000) =>
      withPage(browser, async (page) => {
        const response = await page.goto(url, { timeout: timeoutMs, waitUntil: 'load' });
        if (response === null) throw new Error(`no response for ${url}`);
        // Runs in the page; Node's types lack the DOM's PerformanceNavigationTiming.
        const protocol = await page.evaluate(() => {
          const perf = performance as unknown as {
            getEntriesByType(type: string): { nextHopProtocol?: string }[];
          };
          return perf.getEntriesByType('navigation')[0]?.nextHopProtocol ?? '';
        });
        return {
          status: response.status(),
          body: await response.text(),
          protocol,
          headers: response.headers(),
        };
      }),
    runInPage: (url, fn, arg, timeoutMs = 10_000) =>
      withPage(browser, async (page) => {
        page.setDefaultTimeout(timeoutMs);
        await page.goto(url, { timeout: timeoutMs });
        return (await page.evaluate(fn as (a: unknown) => unknown, arg)) as Awaited<
          ReturnType<typeof fn>
        >;
      }),
    close: () => {
      closing ??= browser.close();
      return closing;
    },
  };
}
