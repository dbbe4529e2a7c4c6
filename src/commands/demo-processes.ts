// The child processes of `profctl demo` (the agent, the demo service, the
// load generator, the walk's profctl commands), tracked so that every one of
// them is stopped however the demo ends: normally, on an error, or on Ctrl-C
// or SIGTERM. Each child leads its own process group, so a Ctrl-C typed at
// the terminal reaches only the demo, which then stops the children itself,
// in order; stopping a child ends with killing its whole group, so nothing it
// started (the agent's sampling helper) outlives it. This module starts and
// stops processes; it knows nothing about what they do.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface DemoChild {
  name: string;
  pid: number;
  process: ChildProcess;
  /** Everything the child wrote, kept for results and error messages. */
  stdout: () => string;
  stderr: () => string;
  exited: Promise<ChildExit>;
  hasExited: () => boolean;
}

/** Raised when the demo is interrupted (Ctrl-C, SIGTERM) while it waits. */
export class DemoInterrupted extends Error {
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
  }
}

/** Waits ms, or rejects as soon as the signal aborts. */
export function sleep(ms: number, abort: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (abort.aborted) return reject(new DemoInterrupted(String(abort.reason)));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new DemoInterrupted(String(abort.reason)));
    };
    const timer = setTimeout(() => {
      abort.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    abort.addEventListener('abort', onAbort, { once: true });
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export class DemoProcesses {
  private readonly children: DemoChild[] = [];

  /** Starts a child as the leader of a new process group. Its stdin is a pipe that closes if the demo dies. */
  start(name: string, command: string, args: string[], options: SpawnOptions = {}): DemoChild {
    const child = spawn(command, args, { ...options, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdin!.on('error', () => {});
    let done = false;
    const exited = new Promise<ChildExit>((resolve) => {
      child.once('error', (e) => {
        err += `${e.message}\n`;
        done = true;
        resolve({ code: 127, signal: null });
      });
      child.once('exit', (code, signal) => {
        done = true;
        resolve({ code, signal });
      });
    });
    const tracked: DemoChild = {
      name,
      pid: child.pid ?? -1,
      process: child,
      stdout: () => out,
      stderr: () => err,
      exited,
      hasExited: () => done,
    };
    this.children.push(tracked);
    return tracked;
  }

  /**
   * Asks the child (only the group leader, so it can shut down in order) to
   * stop; after graceMs, or once it has exited, kills whatever is left of its
   * process group.
   */
  async stop(child: DemoChild, graceMs = 5000): Promise<ChildExit> {
    if (!child.hasExited() && child.pid > 0) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([child.exited, new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), graceMs);
      })]);
    clearTimeout(timer);
    if (child.pid > 0 && groupAlive(child.pid)) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Exited in between.
      }
    }
    const final = exit ?? (await child.exited);
    // Ending our side of its pipes lets the demo exit without waiting on them.
    child.process.stdin?.destroy();
    this.forget(child);
    return final;
  }

  /** Stops every child still tracked, the last started first. */
  async stopAll(graceMs = 5000): Promise<void> {
    for (const child of [...this.children].reverse()) await this.stop(child, graceMs);
  }

  private forget(child: DemoChild): void {
    const i = this.children.indexOf(child);
    if (i >= 0) this.children.splice(i, 1);
  }

  /** Runs a short command to completion (a walk step), stoppable like the others. */
  async run(name: string, command: string, args: string[], options: SpawnOptions = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const child = this.start(name, command, args, options);
    child.process.stdin!.end();
    const exit = await child.exited;
    this.forget(child);
    return { code: exit.code ?? (exit.signal ? 128 : 1), stdout: child.stdout(), stderr: child.stderr() };
  }
}

/** Resolves with the first stdout line for which parse returns a value; rejects if the child exits first. */
export function waitForLine<T>(child: DemoChild, stream: 'stdout' | 'stderr', parse: (line: string) => T | undefined, timeoutMs: number, abort: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const source = child.process[stream]!;
    let buffered = '';
    const cleanup = () => {
      source.off('data', onData);
      clearTimeout(timer);
      abort.removeEventListener('abort', onAbort);
    };
    const onData = (d: string) => {
      buffered += d;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const v = parse(line);
        if (v !== undefined) {
          cleanup();
          return resolve(v);
        }
      }
    };
    const onAbort = () => {
      cleanup();
      reject(new DemoInterrupted(String(abort.reason)));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${child.name} did not start within ${timeoutMs / 1000}s`));
    }, timeoutMs);
    source.on('data', onData);
    abort.addEventListener('abort', onAbort, { once: true });
    void child.exited.then((e) => {
      cleanup();
      reject(new Error(`${child.name} exited (${e.signal ?? `status ${e.code}`}) before it was ready`));
    });
  });
}
