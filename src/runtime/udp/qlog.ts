/**
 * qlog output: one JSON-SEQ file per connection (RFC 7464 records: 0x1E, JSON text, LF), a header
 * record first, then the events the connection reports through its `qlog` callback.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';

/** A qlog event as connections report it. */
export interface QlogRecord {
  time: number;
  name: string;
  data: Record<string, unknown>;
}

/** A per-connection sink; `close` ends its file. */
export interface QlogSink {
  (event: QlogRecord): void;
  close(): void;
}

const RS = '\x1e';

export class QlogDirectory {
  readonly #dir: string;
  readonly #logger: Logger | undefined;
  readonly #open = new Set<WriteStream>();
  #seq = 0;

  constructor(dir: string, logger?: Logger) {
    this.#dir = dir;
    this.#logger = logger;
    mkdirSync(dir, { recursive: true });
  }

  /**
   * A sink writing `<label>-<n>.sqlog`. The file is created on the first event and ended by the
   * `connectivity:connection_closed` event, by `close()`, or by {@link QlogDirectory.closeAll}.
   */
  forConnection(
    label: string,
    vantagePoint: 'client' | 'server' | 'unknown' = 'unknown',
  ): QlogSink {
    const file = join(this.#dir, `${label.replace(/[^\w.-]/g, '_')}-${this.#seq++}.sqlog`);
    let stream: WriteStream | undefined;
    let ended = false;
    const close = (): void => {
      if (stream === undefined || ended) return;
      ended = true;
      stream.end();
    };
    const sink = ((event: QlogRecord): void => {
      if (ended) return;
      if (stream === undefined) {
        const s = createWriteStream(file, { flags: 'a' });
        s.on('error', (err) => this.#logger?.warn({ err, file }, 'qlog write failed'));
        s.on('close', () => this.#open.delete(s));
        this.#open.add(s);
        stream = s;
        s.write(
          record({
            qlog_version: '0.3',
            qlog_format: 'JSON-SEQ',
            title: label,
            trace: {
              vantage_point: { type: vantagePoint },
              common_fields: { time_format: 'absolute' },
            },
          }),
        );
      }
      stream.write(record(event));
      if (event.name === 'connectivity:connection_closed') close();
    }) as QlogSink;
    sink.close = close;
    return sink;
  }

  /** Ends every open file and waits until they are flushed. */
  async closeAll(): Promise<void> {
    const streams = [...this.#open];
    await Promise.all(
      streams.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.closed) {
              resolve();
              return;
            }
            s.once('close', () => resolve());
            if (!s.writableEnded) s.end();
          }),
      ),
    );
  }
}

function record(value: unknown): string {
  return `${RS}${JSON.stringify(value)}\n`;
}
