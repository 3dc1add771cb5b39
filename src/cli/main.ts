#!/usr/bin/env node
/**
 * The `masque` executable: runs the command line and, for a long-running command, stops it
 * gracefully on SIGINT / SIGTERM (a second signal exits at once) and, when it has a
 * configuration (the proxy), reloads it on SIGHUP.
 */
import { runCli } from './program.js';

const result = await runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
});
if ('exitCode' in result) {
  process.exitCode = result.exitCode;
} else {
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    result.running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`masque: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const { reload } = result.running;
  if (reload !== undefined) {
    process.on('SIGHUP', () => {
      if (!stopping) void reload();
    });
  }
}
