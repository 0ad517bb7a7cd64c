/**
 * A real terminal for end-to-end tests: the program runs on a pseudo-terminal (node-pty) and
 * its output goes through xterm.js's own parser (@xterm/headless), so the test reads the same
 * screen an operator would see, colours included.
 */
import { fileURLToPath } from 'node:url';
import xtermHeadless from '@xterm/headless';
import pty from 'node-pty';

// @xterm/headless is CommonJS: its class comes through the default export.
const { Terminal } = xtermHeadless;
type Terminal = InstanceType<typeof Terminal>;

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface PtyExit {
  exitCode: number;
  signal?: number;
}

export interface PtyScreen {
  /** xterm's terminal, for reading cells and colours. */
  terminal: Terminal;
  /** The rows of the screen as text (trailing blanks kept). */
  lines(): string[];
  text(): string;
  /** Sends keys one at a time, with a pause so a lone ESC is not read as Alt+key. */
  press(...keys: string[]): Promise<void>;
  /** Resolves once the screen matches; rejects after `timeoutMs` with the screen in the message. */
  waitFor(match: string | RegExp | ((screen: string) => boolean), timeoutMs?: number): Promise<string>;
  resize(cols: number, rows: number): void;
  exited: Promise<PtyExit>;
  /** What the program wrote, all of it (for a failing test's message). */
  output(): string;
  /** Sends a signal (node-pty's default is SIGHUP) unless it has exited. */
  kill(signal?: string): void;
}

export interface PtyOptions {
  cols?: number;
  rows?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Pause after each key, in ms. */
  keyPauseMs?: number;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function startPty(file: string, args: string[], opts: PtyOptions = {}): PtyScreen {
  const cols = opts.cols ?? 80;
  const rows = opts.rows ?? 24;
  const terminal = new Terminal({ cols, rows, allowProposedApi: true });
  const child = pty.spawn(file, args, {
    name: 'xterm-256color',
    cols,
    rows,
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, TERM: 'xterm-256color', ...opts.env } as Record<string, string>,
  });
  let raw = '';
  let parsed = Promise.resolve();
  const watchers = new Set<() => void>();
  child.onData((data) => {
    raw += data;
    parsed = new Promise((resolve) =>
      terminal.write(data, () => {
        for (const w of watchers) w();
        resolve();
      }),
    );
  });
  const exited = new Promise<PtyExit>((resolve) => child.onExit((e) => resolve({ exitCode: e.exitCode, ...(e.signal ? { signal: e.signal } : {}) })));
  let done = false;
  void exited.then(() => {
    done = true;
    for (const w of watchers) w();
  });

  const lines = (): string[] => {
    const buf = terminal.buffer.active;
    const out: string[] = [];
    for (let y = 0; y < terminal.rows; y++) out.push(buf.getLine(buf.viewportY + y)?.translateToString(false) ?? '');
    return out;
  };
  const text = () => lines().join('\n');

  return {
    terminal,
    lines,
    text,
    async press(...keys) {
      for (const k of keys) {
        child.write(k);
        await pause(opts.keyPauseMs ?? 60);
      }
    },
    async waitFor(match, timeoutMs = 10_000) {
      const test = typeof match === 'function' ? match : typeof match === 'string' ? (s: string) => s.includes(match) : (s: string) => match.test(s);
      await parsed;
      if (test(text())) return text();
      return new Promise<string>((resolve, reject) => {
        const check = () => {
          const screen = text();
          if (test(screen)) {
            finish();
            resolve(screen);
          } else if (done) {
            finish();
            reject(new Error(`the program exited before the screen showed ${String(match)}; screen:\n${screen}\noutput:\n${JSON.stringify(raw.slice(-2000))}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`screen did not show ${String(match)} within ${timeoutMs} ms; screen:\n${text()}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        watchers.add(check);
      });
    },
    resize(c, r) {
      child.resize(c, r);
      terminal.resize(c, r);
    },
    exited,
    output: () => raw,
    kill(signal) {
      if (!done) child.kill(signal);
    },
  };
}

/** The built CLI (`npm run build`) on a pseudo-terminal. */
export function startCli(args: string[], opts: PtyOptions = {}): PtyScreen {
  return startPty(process.execPath, [CLI, ...args], opts);
}
