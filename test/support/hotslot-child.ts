import { spawn } from 'node:child_process';
import { CLI } from './hotslot-cli.js';

/**
 * A long-running hotslot (such as `watch`) as a child process: its stdout read line by line as
 * it comes, so that a test can wait for what it says, act, and signal it.
 */
export interface HotslotChild {
  readonly pid: number;
  /** Every stdout line so far. */
  readonly lines: string[];
  stderr(): string;
  /** The first line (from the start) that `match` accepts, waiting up to `timeoutMs` for it. */
  waitForLine(match: (line: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  signal(signal: NodeJS.Signals): void;
  /** Its exit status (null when a signal ended it). */
  readonly exited: Promise<{ status: number | null; signal: NodeJS.Signals | null }>;
}

export function startHotslot(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): HotslotChild {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of [...waiters]) w();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let done = false;
  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (status, signal) => {
      done = true;
      if (partial) lines.push(partial);
      for (const w of [...waiters]) w();
      resolve({ status, signal });
    });
  });
  return {
    get pid() {
      return child.pid ?? -1;
    },
    lines,
    stderr: () => stderr,
    waitForLine(match, what, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(match);
          if (found !== undefined) {
            finish();
            resolve(found);
          } else if (done) {
            finish();
            reject(new Error(`hotslot ${args.join(' ')} exited before saying ${what}\nstdout:\n${lines.join('\n')}\nstderr:\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`hotslot did not say ${what} within ${timeoutMs} ms\nstdout:\n${lines.join('\n')}\nstderr:\n${stderr}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    signal(signal) {
      if (!done) child.kill(signal);
    },
    exited,
  };
}
