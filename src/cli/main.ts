#!/usr/bin/env node
/**
 * The `masque` executable: runs the command line and, for a long-running command, stops it
 * gracefully on SIGINT / SIGTERM (a second signal exits at once) and, when it has a
 * configuration (the proxy), reloads it on SIGHUP.
 */
import cluster from 'node:cluster';
import { runCli } from './program.js';
import { WORKER_ENV } from './workers.js';

/**
 * A worker of `masque proxy --workers N` (workers.ts) takes its signals from the primary: SIGTERM
 * drains, SIGHUP reloads. It ignores SIGINT (Ctrl-C reaches the whole process group; the primary
 * relays it as SIGTERM), a repeated SIGTERM does not cut the drain short (the primary escalates
 * with SIGKILL), and it stops when the primary is gone.
 */
const isWorker = cluster.isWorker && process.env[WORKER_ENV] !== undefined;

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
    if (stopping) {
      if (isWorker) return;
      process.exit(130);
    }
    stopping = true;
    result.running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`masque: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', isWorker ? () => {} : stop);
  process.on('SIGTERM', stop);
  if (isWorker) process.on('disconnect', () => process.exit(0));
  const { reload } = result.running;
  if (reload !== undefined) {
    process.on('SIGHUP', () => {
      if (!stopping) void reload();
    });
  }
}
