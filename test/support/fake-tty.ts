/**
 * An in-process terminal for the dashboard: PassThrough streams that say they are a TTY, with
 * a size that can change. Keys go in as the bytes a terminal sends; the screen is read back from
 * blessed's own cell buffer.
 */
import { PassThrough } from 'node:stream';

export type FakeInput = PassThrough & { isTTY: true };
export type FakeOutput = PassThrough & { isTTY: true; columns: number; rows: number };

/** The bytes an xterm sends for the keys the dashboard knows. */
export const KEY = {
  up: '\x1b[A',
  down: '\x1b[B',
  right: '\x1b[C',
  left: '\x1b[D',
  pageUp: '\x1b[5~',
  pageDown: '\x1b[6~',
  home: '\x1b[H',
  end: '\x1b[F',
  enter: '\r',
  escape: '\x1b',
  tab: '\t',
  shiftTab: '\x1b[Z',
  backspace: '\x7f',
  f1: '\x1bOP',
  f10: '\x1b[21~',
  ctrlC: '\x03',
  ctrlU: '\x15',
} as const;

export interface FakeTerminal {
  input: FakeInput;
  output: FakeOutput;
  /** Sends keys one by one, each as its own read (a lone ESC must not merge with the next key). */
  press(...keys: string[]): Promise<void>;
  /** Types text, one character per read. */
  type(text: string): Promise<void>;
  resize(cols: number, rows: number): void;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function fakeTerminal(cols = 80, rows = 24): FakeTerminal {
  const input = Object.assign(new PassThrough(), { isTTY: true as const });
  const output = Object.assign(new PassThrough(), { isTTY: true as const, columns: cols, rows });
  // Nobody reads what blessed writes; let it flow away instead of piling up.
  output.resume();
  return {
    input,
    output,
    async press(...keys) {
      for (const k of keys) {
        input.write(k);
        await turn();
      }
    },
    async type(text) {
      for (const ch of text) {
        input.write(ch);
        await turn();
      }
    },
    resize(c, r) {
      output.columns = c;
      output.rows = r;
      output.emit('resize');
    },
  };
}

/** The shape of blessed's screen buffer: rows of [attribute, character] cells. */
export interface ScreenLike {
  lines: Array<Array<[number, string]>>;
}

/** The characters on screen, one string per row. */
export function screenText(screen: ScreenLike): string[] {
  return screen.lines.map((row) => row.map((c) => c[1]).join(''));
}

/** The whole screen as one string, for `toContain` and for a failing test's message. */
export function screenDump(screen: ScreenLike): string {
  return screenText(screen).join('\n');
}
