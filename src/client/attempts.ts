/**
 * Staggered connection attempts, RFC 8305 §5: the first attempt starts alone; the next starts
 * when the one before it fails, or after the Connection Attempt Delay if it has not succeeded by
 * then; the first to succeed wins and every later success is closed. Used for the families of
 * the proxy's addresses (IPv6 and IPv4 QUIC handshakes) and for HTTP/3 against HTTP/2.
 *
 * An attempt that is still running when another wins is not aborted (a QUIC handshake has no
 * cancel): it ends at its own deadline, or is closed as soon as it connects.
 */

/** RFC 8305 §8: "The recommended value for the Connection Attempt Delay is 250 milliseconds." */
export const CONNECTION_ATTEMPT_DELAY_MS = 250;

/** Options of {@link raceAttempts}. */
export interface RaceOptions<T> {
  /** How long an attempt runs alone before the next one starts (ms). */
  delayMs: number;
  /** Closes a result that came too late. */
  dispose: (late: T) => void;
  /** Resolves after `ms` (tests pass their own clock); default a timer. */
  wait?: (ms: number) => Promise<void>;
}

const timerWait = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * The first of `starts` to succeed, started as the module header says; rejects with the last
 * error once every attempt failed.
 */
export function raceAttempts<T>(
  starts: ReadonlyArray<() => Promise<T>>,
  options: RaceOptions<T>,
): Promise<T> {
  const wait = options.wait ?? timerWait;
  if (starts.length === 0) return Promise.reject(new RangeError('no connection attempt to make'));
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let started = 0;
    let failed = 0;
    const startNext = (): void => {
      if (done || started >= starts.length) return;
      const attempt = starts[started++];
      let settled = false;
      let p: Promise<T>;
      try {
        p = attempt();
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(
        (value) => {
          settled = true;
          if (done) {
            options.dispose(value);
            return;
          }
          done = true;
          resolve(value);
        },
        (err: unknown) => {
          settled = true;
          if (done) return;
          if (++failed === starts.length) {
            done = true;
            reject(err);
            return;
          }
          startNext(); // §5: a failed attempt lets the next one start at once
        },
      );
      if (started < starts.length) {
        void wait(options.delayMs).then(() => {
          if (!settled) startNext();
        });
      }
    };
    startNext();
  });
}
