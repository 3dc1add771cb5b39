/** What a CLI command may touch: output streams, the environment and a logger. */
import type { Logger } from 'pino';

/** The command's view of the process (tests pass their own). */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Logger for the proxy (default: pino on stderr at the configured level). */
  logger?: Logger;
}
