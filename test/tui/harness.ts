/** A dashboard in the fake terminal, with what it sent and how it exited, for the in-process tests. */
import { BehaviorSubject, Subject } from 'rxjs';
import { manualClock } from '../../src/core/clock.js';
import type { HotslotEvent } from '../../src/core/events.js';
import type { Intent } from '../../src/core/operations.js';
import { reduce } from '../../src/core/reducer.js';
import type { HotslotState } from '../../src/core/state.js';
import { startDashboard, type Dashboard } from '../../src/tui/dashboard.js';
import { loadTheme, type Theme } from '../../src/tui/theme.js';
import { fakeTerminal, screenText, type FakeTerminal, type ScreenLike } from '../support/fake-tty.js';

export interface Harness {
  dash: Dashboard;
  term: FakeTerminal;
  sent: Intent[];
  exits: number[];
  clock: ReturnType<typeof manualClock>;
  state$: BehaviorSubject<HotslotState>;
  /** Feeds events through the reducer into state$ and into the log, as the bus does. */
  emit(...events: HotslotEvent[]): void;
  lines(): string[];
  text(): string;
  /** The screen row holding `needle` (first match), or undefined. */
  row(needle: string): string | undefined;
  press(...keys: string[]): Promise<void>;
  type(text: string): Promise<void>;
  close(): void;
}

export interface HarnessOptions {
  readOnly?: boolean;
  theme?: Theme;
  cols?: number;
  rows?: number;
  terminal?: string;
}

const defaultTheme = loadTheme('default', {});

export function openDashboard(state: HotslotState, opts: HarnessOptions = {}): Harness {
  const term = fakeTerminal(opts.cols ?? 80, opts.rows ?? 24);
  const state$ = new BehaviorSubject(state);
  const events$ = new Subject<HotslotEvent>();
  const sent: Intent[] = [];
  const exits: number[] = [];
  const clock = manualClock(0);
  const dash = startDashboard({
    state$,
    events$,
    sendIntent: (i) => sent.push(i),
    readOnly: opts.readOnly ?? false,
    theme: opts.theme ?? defaultTheme,
    header: { host: 'labhost', kernel: '6.1.0-13-amd64' },
    input: term.input,
    output: term.output,
    terminal: opts.terminal ?? 'xterm-256color',
    onExit: (c) => exits.push(c),
    frameMs: 0,
    clock,
  });
  const screen = dash.screen as unknown as ScreenLike;
  const lines = () => screenText(screen);
  return {
    dash,
    term,
    sent,
    exits,
    clock,
    state$,
    emit(...events) {
      for (const e of events) {
        state$.next(reduce(state$.getValue(), e));
        events$.next(e);
      }
    },
    lines,
    text: () => lines().join('\n'),
    row: (needle) => lines().find((l) => l.includes(needle)),
    press: (...keys) => term.press(...keys),
    type: (t) => term.type(t),
    close: () => dash.stop(),
  };
}
