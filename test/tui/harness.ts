/** A dashboard in the fake terminal, with what it sent and how it exited, for the in-process tests. */
import { BehaviorSubject, Subject } from 'rxjs';
import { manualClock } from '../../src/core/clock.js';
import type { HotslotEvent, SessionNote } from '../../src/core/events.js';
import type { Intent } from '../../src/core/operations.js';
import { reduce } from '../../src/core/reducer.js';
import type { HotslotState } from '../../src/core/state.js';
import type { RecordedEvent } from '../../src/record/format.js';
import { Replayer, type ReplayTimers } from '../../src/record/replayer.js';
import { startDashboard, type Dashboard } from '../../src/tui/dashboard.js';
import { loadTheme, type Theme } from '../../src/tui/theme.js';
import { fakeTerminal, screenText, type FakeTerminal, type ScreenLike } from '../support/fake-tty.js';

export interface Harness {
  dash: Dashboard;
  term: FakeTerminal;
  sent: Intent[];
  exits: number[];
  /** What the dashboard noted for the session recording (answers, resizes). */
  notes: SessionNote[];
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
  const notes: SessionNote[] = [];
  const clock = manualClock(0);
  const dash = startDashboard({
    state$,
    events$,
    sendIntent: (i) => sent.push(i),
    note: (n) => notes.push(n),
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
    notes,
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

/** Timers on the manual clock: `advance` moves time and runs, in order, what came due. */
export function manualTimers(clock: ReturnType<typeof manualClock>): ReplayTimers & { advance(ms: number): void } {
  let next = 1;
  let pending: { id: number; at: number; fn: () => void }[] = [];
  return {
    set(fn, ms) {
      const id = next++;
      pending.push({ id, at: clock.now() + ms, fn });
      return id;
    },
    clear(id) {
      pending = pending.filter((p) => p.id !== id);
    },
    advance(ms) {
      const end = clock.now() + ms;
      for (;;) {
        const due = pending.filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
        if (!due) break;
        pending = pending.filter((p) => p !== due);
        clock.advance(Math.max(0, due.at - clock.now()));
        due.fn();
      }
      clock.advance(end - clock.now());
    },
  };
}

export interface ReplayHarness extends Omit<Harness, 'emit' | 'state$' | 'notes'> {
  replayer: Replayer;
  /** Moves the replay's clock (and the dashboard's) on by `ms` of real time. */
  advance(ms: number): void;
  /** The header line. */
  header(): string;
}

/** A dashboard driven by a replay of `events` (each with its time into the session), started and playing. */
export function openReplay(events: readonly { t: number; event: HotslotEvent }[], opts: HarnessOptions & { speed?: number; fromMs?: number; endNote?: string } = {}): ReplayHarness {
  const term = fakeTerminal(opts.cols ?? 120, opts.rows ?? 36);
  const clock = manualClock(0);
  const timers = manualTimers(clock);
  const recorded: RecordedEvent[] = events.map((e, seq) => ({ seq, t: e.t, wall: new Date(e.t).toISOString(), event: e.event }));
  const replayer = new Replayer({ events: recorded, clock, timers, ...(opts.speed ? { speed: opts.speed } : {}), ...(opts.fromMs ? { fromMs: opts.fromMs } : {}) });
  const sent: Intent[] = [];
  const exits: number[] = [];
  const dash = startDashboard({
    replay: {
      frames$: replayer.frames$,
      control: (c) => replayer.control(c),
      now: () => replayer.now(),
      ...(opts.endNote ? { endNote: opts.endNote } : {}),
    },
    sendIntent: (i) => sent.push(i),
    readOnly: true,
    theme: opts.theme ?? defaultTheme,
    header: { host: 'labhost', kernel: '', recordedAt: '2026-11-21T08:55:00.000Z', mode: 'replay' },
    input: term.input,
    output: term.output,
    terminal: opts.terminal ?? 'xterm-256color',
    onExit: (c) => exits.push(c),
    frameMs: 0,
    clock,
  });
  replayer.start();
  const screen = dash.screen as unknown as ScreenLike;
  const lines = () => screenText(screen);
  return {
    dash,
    term,
    sent,
    exits,
    clock,
    replayer,
    advance: (ms) => timers.advance(ms),
    header: () => lines()[0],
    lines,
    text: () => lines().join('\n'),
    row: (needle) => lines().find((l) => l.includes(needle)),
    press: (...keys) => term.press(...keys),
    type: (t) => term.type(t),
    close: () => {
      dash.stop();
      replayer.stop();
    },
  };
}
