/**
 * Process plumbing shared by the external-peer harnesses (ngtcp2, tshark, Chromium): finding a
 * peer binary (a missing one is an error naming its Debian package, never a skip), running a
 * command to completion under a deadline, keeping a long-running peer whose stop() is
 * idempotent, and reading the UDP ports a child bound (for peers that cannot print them).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Returns `path` when it is executable, else throws an error that names the Debian package to
 * install (`npm run setup` installs them all).
 */
export function requireExecutable(path: string, debianPackage: string, what: string): string {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(
      `${what} not found at ${path}: install the Debian package "${debianPackage}" ` +
        `(apt-get install ${debianPackage}, or npm run setup)`,
    );
  }
  return path;
}

/** Outcome of {@link runToCompletion}. */
export interface CompletedProcess {
  /** Exit code, or -1 when the process was ended by a signal. */
  exitCode: number;
  /** Signal that ended the process, if any. */
  signal: NodeJS.Signals | null;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
  /** Wall time from spawn to exit, in milliseconds. */
  elapsedMs: number;
}

/** Options of {@link runToCompletion}. */
export interface RunOptions {
  /** Kill (SIGKILL) and reject after this long. */
  timeoutMs: number;
  /** Environment additions (merged into `process.env`). */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /** Name used in error messages. */
  name?: string;
}

/**
 * Spawns `cmd args`, collects its output and resolves when it exits (whatever the exit code).
 * Rejects when it cannot be spawned or outlives `timeoutMs`, with its output so far.
 */
export function runToCompletion(
  cmd: string,
  args: readonly string[],
  opts: RunOptions,
): Promise<CompletedProcess> {
  const name = opts.name ?? cmd;
  const start = performance.now();
  const proc = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
  });
  let stdout = '';
  let stderr = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(
        new Error(`${name} timed out after ${opts.timeoutMs} ms\nstderr (tail):\n${tail(stderr)}`),
      );
    }, opts.timeoutMs);
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${name} failed to spawn: ${err.message}`));
    });
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        exitCode: code ?? -1,
        signal,
        stdout,
        stderr,
        elapsedMs: performance.now() - start,
      });
    });
  });
}

/** The last `lines` lines of a log, for error messages. */
export function tail(log: string, lines = 40): string {
  return log.split('\n').slice(-lines).join('\n');
}

/** A long-running child process with an idempotent, bounded stop. */
export interface ManagedProcess {
  /** The child process. */
  proc: ChildProcess;
  /** Stderr written so far. */
  stderr(): string;
  /** Stdout written so far. */
  stdout(): string;
  /** Resolves once the process exited (also when it exited on its own). */
  exited: Promise<void>;
  /**
   * Sends `signal` (default SIGTERM), then SIGKILL after `graceMs` (default 2 s); resolves once
   * the process exited. Idempotent.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/** Spawns a long-running peer and collects its output. */
export function spawnManaged(
  cmd: string,
  args: readonly string[],
  env?: Record<string, string>,
): ManagedProcess {
  const proc = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.once('error', () => resolve());
  });
  let stopping: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals = 'SIGTERM', graceMs = 2000): Promise<void> => {
    stopping ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
        proc.kill(signal);
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
    })();
    return stopping;
  };
  return { proc, stderr: () => stderr, stdout: () => stdout, exited, stop };
}

/** True while the child has neither exited nor been killed. */
export function isRunning(proc: ChildProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

/**
 * Local UDP ports the process `pid` has bound, read from Linux's /proc: the socket inodes of
 * /proc/PID/fd matched against /proc/net/udp and /proc/net/udp6. Empty when none (yet).
 */
export function boundUdpPorts(pid: number): number[] {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // the descriptor closed between readdir and readlink
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    // "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || !inodes.has(cols[9])) continue;
      const port = Number.parseInt(cols[1].split(':')[1] ?? '', 16);
      if (Number.isInteger(port) && port > 0) ports.add(port);
    }
  }
  return [...ports];
}

/** Direct children of `pid` (Linux /proc/PID/task/TID/children); empty when unknown. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
      for (const c of text.trim().split(/\s+/)) if (c !== '') out.push(Number(c));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** The command line of `pid` (NUL-separated argv joined by spaces), or undefined once gone. */
export function processCommand(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/**
 * Ends `pid` (one we started, identified also by `expectedCommand` so a recycled pid is never
 * hit): SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone.
 */
export async function endProcess(
  pid: number,
  expectedCommand: string,
  graceMs = 2000,
): Promise<void> {
  const ours = (): boolean => processCommand(pid)?.includes(expectedCommand) === true;
  if (!ours()) return;
  process.kill(pid, 'SIGTERM');
  const deadline = performance.now() + graceMs;
  while (ours()) {
    if (performance.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Polls `probe` every `intervalMs` until it returns a value, or rejects after `timeoutMs`. */
export async function pollUntil<T>(
  probe: () => T | undefined,
  timeoutMs: number,
  what: string,
  intervalMs = 20,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const builtGoPeers = new Map<string, string>();

/**
 * Builds a Go interop peer with its `build.sh` (offline, cached by source hash; see
 * `go-build.sh`) once per process and returns the binary path. Throws with the script's message,
 * which names the Debian packages, when Go or the sources are missing: the test fails, never skips.
 */
export function buildGoPeer(buildScript: string, what: string): string {
  const known = builtGoPeers.get(buildScript);
  if (known !== undefined) return known;
  let stdout: string;
  try {
    stdout = execFileSync('bash', [buildScript], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const detail = e.stderr?.trim() || e.message;
    throw new Error(`${what} could not be built (${buildScript}):\n${detail}`);
  }
  const path = stdout.trim().split('\n').at(-1);
  if (!path) throw new Error(`${what} build script printed no binary path`);
  builtGoPeers.set(buildScript, path);
  return path;
}

/** A peer server started by {@link startReadyPeer}. */
export interface ReadyPeer {
  /** Bound host from the `READY host:port` line (e.g. `127.0.0.1`). */
  host: string;
  /** Bound UDP port from the `READY` line. */
  port: number;
  /** The child process. */
  proc: ChildProcess;
  /** Stderr logged so far. */
  stderr(): string;
  /** SIGTERM, then SIGKILL after 2 s; resolves once the process exited. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Spawns a peer server and resolves once it printed `READY host:port`. Its stdin stays an open
 * pipe, so the peer exits when this process dies. `what` names it in errors.
 */
export function startReadyPeer(
  bin: string,
  args: readonly string[],
  opts: { what: string; readyTimeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<ReadyPeer> {
  const proc = spawn(bin, [...args], { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env });
  let stderr = '';
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else {
      proc.once('exit', () => resolve());
      proc.once('error', () => resolve());
    }
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
      proc.stdin?.destroy();
    })();
    return stopping;
  };
  return new Promise<ReadyPeer>((resolve, reject) => {
    let stdout = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      void stop();
      reject(new Error(`${opts.what} ${why}\nstderr:\n${stderr}`));
    };
    const timer = setTimeout(
      () => fail(`printed no READY line within ${opts.readyTimeoutMs} ms`),
      opts.readyTimeoutMs,
    );
    const onError = (err: Error): void => fail(`failed to spawn: ${err.message}`);
    const onExit = (code: number | null, signal: string | null): void =>
      fail(`exited early (code ${code}, signal ${signal})`);
    proc.once('error', onError);
    proc.once('exit', onExit);
    proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /^READY (\S+):(\d+)$/m.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      proc.off('error', onError);
      proc.off('exit', onExit);
      resolve({ host: m[1], port: Number(m[2]), proc, stderr: () => stderr, stop });
    });
  });
}

/** Exit code and stderr of a one-shot peer run by {@link runJsonPeer}. */
export interface PeerExit {
  /** Exit code (0 success, 1 failure, 2 usage error; -1 when killed by a signal). */
  exitCode: number;
  /** Everything logged on stderr. */
  stderr: string;
}

/**
 * Runs a one-shot peer command and resolves with the last JSON line of its stdout plus its exit
 * code and stderr (also when it reports failure). Rejects on timeout (after SIGKILL), when it
 * cannot be spawned, or when it printed no parsable JSON line.
 */
export function runJsonPeer<T>(
  bin: string,
  args: readonly string[],
  opts: { what: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<T & PeerExit> {
  const proc = spawn(bin, [...args], { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env });
  let stdout = '';
  let stderr = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${opts.what} timed out after ${opts.timeoutMs} ms\nstderr:\n${stderr}`));
    }, opts.timeoutMs);
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${opts.what} failed to spawn: ${err.message}`));
    });
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.startsWith('{'))
        .at(-1);
      if (line === undefined) {
        reject(
          new Error(
            `${opts.what} printed no JSON (code ${code}, signal ${signal})\n` +
              `stdout:\n${stdout}\nstderr:\n${stderr}`,
          ),
        );
        return;
      }
      try {
        resolve({ ...(JSON.parse(line) as T), exitCode: code ?? -1, stderr });
      } catch (err) {
        reject(new Error(`${opts.what} printed bad JSON ${line}: ${String(err)}`));
      }
    });
  });
}
