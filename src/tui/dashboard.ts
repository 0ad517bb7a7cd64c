/**
 * The dashboard: reads state, draws it, turns keys into intents. It never calls QMP or sysfs;
 * whoever starts it decides where state comes from (host watcher and guests, the demo lab, a
 * replay) and where intents go.
 */
import { auditTime, merge, tap, type Observable, type Subscription } from 'rxjs';
import type { HotslotEvent, SessionNote } from '../core/events.js';
import type { Intent } from '../core/operations.js';
import type { ReplayCommand, ReplayFrame, ReplayPosition } from '../core/replay.js';
import { initialState, interruptHistory, type HotslotState } from '../core/state.js';
import { systemClock, type Clock } from '../core/clock.js';
import { colourCount, createScreen, type RawKey, type Screen } from './blessed.js';
import { handleKey, normalise, type KeyContext } from './controller.js';
import { keyName } from './keymap.js';
import { computeLayout, MIN_COLS, MIN_ROWS } from './layout.js';
import { createBottomBar } from './panes/bottom-bar.js';
import { createDetailsPane } from './panes/details.js';
import { createDevicesPane } from './panes/devices.js';
import { createDialogPane } from './panes/dialog.js';
import { createFrame } from './panes/frame.js';
import { createGuestsPane } from './panes/guests.js';
import { createHeaderPane } from './panes/header.js';
import { createEventLog, createLogPane } from './panes/log.js';
import { createSparklinePane } from './panes/sparkline.js';
import { paintLine } from './paint.js';
import { cell, wrapLine, type Line } from './present/cells.js';
import { deviceDetails, guestDetails } from './present/details.js';
import { filterDevices, sortedDevices } from './present/devices.js';
import { sortedGuests } from './present/guests.js';
import type { HeaderInfo } from './present/header.js';
import { activeOperations, isStuck, latestOperationByBdf } from './present/operations.js';
import { themeForColours, type Theme } from './theme.js';
import { initialViewState, type Effect, type ViewState } from './view-state.js';

/** A replay in place of a live session: it moves, the dashboard shows where it is and sends it the replay keys. */
export interface ReplayFeed {
  frames$: Observable<ReplayFrame>;
  control(command: ReplayCommand): void;
  /** The recorded session's clock at the replay's position, for a running operation's clock. */
  now(): number;
  /** Said in the status line when the replay reaches its end (a recording cut short says where). */
  endNote?: string;
}

/** Where state comes from: a live session's (or any) bus, or a replay. */
export type DashboardSource =
  | { state$: Observable<HotslotState>; events$: Observable<HotslotEvent>; replay?: undefined }
  | { replay: ReplayFeed; state$?: undefined; events$?: undefined };

export type DashboardOptions = DashboardSource & {
  sendIntent(intent: Intent): void;
  /** What the operator did that changes no state (answers, terminal resizes), for the session recording. */
  note?(note: SessionNote): void;
  readOnly: boolean;
  theme: Theme;
  header: HeaderInfo;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** `$TERM`; `*-256color` names are mapped to one blessed can read. */
  terminal?: string;
  onExit(code: number): void;
  /**
   * Most time between a change and the frame that shows it: 33 ms is about 30 frames a
   * second, however fast events come. 0 draws each change at once (tests).
   */
  frameMs?: number;
  /** Measures time between states, so a running operation's clock and spinner move (tests inject one). */
  clock?: Clock;
};

export interface Dashboard {
  screen: Screen;
  /** Draws now (a frame is otherwise drawn on the next state, event, key or tick). */
  render(): void;
  /** What the dashboard shows besides the state: view, focus, selection, dialog, status. */
  view(): ViewState;
  /** Restores the terminal and lets go of the streams; idempotent. */
  stop(): void;
}

/** How often a running operation's spinner and clock move. */
const TICK_MS = 125;

export function startDashboard(opts: DashboardOptions): Dashboard {
  const { readOnly } = opts;
  const replay = opts.replay ?? null;
  const clock = opts.clock ?? systemClock;
  const frameMs = opts.frameMs ?? 33;
  const screen = createScreen({
    input: opts.input ?? process.stdin,
    output: opts.output ?? process.stdout,
    terminal: opts.terminal ?? process.env.TERM,
  });
  const theme = themeForColours(opts.theme, colourCount(screen));

  const header = createHeaderPane(screen, theme);
  const devices = createDevicesPane(screen, theme);
  const guests = createGuestsPane(screen, theme);
  const details = createDetailsPane(screen, theme);
  const logPane = createLogPane(screen, theme);
  const sparkline = createSparklinePane(screen, theme);
  const bar = createBottomBar(screen, theme);
  const dialog = createDialogPane(screen, theme);
  const tooSmall = createFrame(screen, theme, { border: false });
  const eventLog = createEventLog();

  let state: HotslotState = initialState;
  let stateArrived = clock.now();
  let vs: ViewState = initialViewState;
  let stopped = false;
  let ticker: NodeJS.Timeout | null = null;
  let size = '';
  let position: ReplayPosition | null = null;

  /**
   * The state's time, moved on by the time since it arrived: a running operation's clock keeps
   * going between events. A replay's clock is its own: it stops when paused.
   */
  const now = (): number => (replay ? replay.now() : state.now + Math.max(0, clock.now() - stateArrived));

  /** The details of the device or guest in view, wrapped to the pane's width. */
  function detailsLines(v: ViewState): { title: string; lines: Line[] } {
    const wrap = (lines: Line[]) => lines.flatMap((l) => wrapLine(l, details.frame.innerWidth()));
    if (v.focus === 'guests' && v.selectedGuest !== null) {
      const g = state.guests[v.selectedGuest];
      if (g) return { title: `Guest ${g.name}`, lines: wrap(guestDetails(g, state)) };
    }
    const d = v.selectedBdf ? state.devices[v.selectedBdf] : undefined;
    if (d) return { title: `Details ${d.bdf}`, lines: wrap(deviceDetails(d, { ...state, now: now() })) };
    return { title: 'Details', lines: [[cell('no device selected', 'muted')]] };
  }

  function keyContext(v: ViewState): KeyContext {
    const rows = filterDevices(sortedDevices(state.devices), v.filter);
    return {
      state,
      readOnly,
      replay: replay !== null,
      rows,
      guests: sortedGuests(state.guests),
      pages: { devices: devices.pageSize(), guests: guests.pageSize(), log: logPane.pageSize(), details: details.pageSize() },
      logLength: eventLog.lines.length,
      detailsLength: v.view === 'details' || details.frame.visible() ? detailsLines(v).lines.length : 0,
    };
  }

  function placePanes(): boolean {
    const cols = screen.width as number;
    const rows = screen.height as number;
    const layout = computeLayout(cols, rows, vs.view);
    const key = `${cols}x${rows}:${layout.tooSmall ? 'small' : vs.view}`;
    if (key === size) return !layout.tooSmall;
    size = key;
    if (layout.tooSmall) {
      for (const p of [header, devices, guests, details, logPane, sparkline, bar]) p.place(null);
      tooSmall.place({ top: 0, left: 0, width: cols, height: rows });
      tooSmall.show(paintLine([cell(`hotslot needs ${MIN_COLS}x${MIN_ROWS} or more (this is ${cols}x${rows}); q quits`, 'warn')], theme, { width: cols }));
      return false;
    }
    tooSmall.place(null);
    header.place(layout.header);
    devices.place(layout.devices);
    guests.place(layout.guests);
    details.place(layout.details);
    logPane.place(layout.log);
    sparkline.place(layout.sparkline);
    bar.place(layout.bar);
    return true;
  }

  function render(): void {
    if (stopped) return;
    const fits = placePanes();
    const ctx = keyContext(vs);
    vs = normalise(vs, ctx);
    if (fits) {
      const t = now();
      const ops = latestOperationByBdf(state.operations);
      header.render(state, opts.header, readOnly, t, position);
      devices.render({ state, rows: ctx.rows, top: vs.deviceTop, selectedBdf: vs.selectedBdf, focused: vs.view === 'main' && vs.focus === 'devices', filter: vs.filter, now: t });
      guests.render({ guests: ctx.guests, top: vs.guestTop, selected: vs.selectedGuest, focused: vs.focus === 'guests', replay: replay !== null });
      const d = detailsLines(vs);
      details.render({ title: d.title, lines: d.lines, top: vs.view === 'details' ? vs.detailsTop : 0, focused: vs.view === 'details' });
      logPane.render({ lines: eventLog.lines, back: vs.logBack, focused: vs.focus === 'log' });
      sparkline.render({ bdf: vs.selectedBdf, counts: vs.selectedBdf ? interruptHistory(state, vs.selectedBdf) : [] });
      bar.render({
        view: vs.view,
        dialog: vs.dialog,
        status: vs.status,
        readOnly,
        stuck: vs.selectedBdf !== null && isStuck(ops.get(vs.selectedBdf)),
        filter: vs.filter,
        replay: replay !== null,
      });
      dialog.render(vs.dialog, readOnly, screen.width as number, screen.height as number, replay !== null);
    } else dialog.render(null, readOnly, 0, 0);
    screen.render();
    tick();
  }

  /** Keeps the spinner and the clock of a running operation moving between events. */
  function tick(): void {
    const running = activeOperations(state.operations).length > 0;
    if (running && !ticker && !stopped) {
      ticker = setInterval(render, TICK_MS);
      ticker.unref();
    } else if (!running && ticker) {
      clearInterval(ticker);
      ticker = null;
    }
  }

  function carryOut(effects: Effect[]): void {
    for (const e of effects) {
      if (e.kind === 'exit') {
        stop();
        opts.onExit(e.code);
        return;
      }
      if (e.kind === 'answer') {
        opts.note?.({ type: 'operator.answer', at: clock.now(), question: e.question, about: e.about, answer: e.answer });
        continue;
      }
      if (e.kind === 'replay') {
        replay?.control(e.command);
        continue;
      }
      try {
        opts.sendIntent(e.intent);
      } catch (err) {
        vs = { ...vs, status: { text: `${e.label}: not sent: ${err instanceof Error ? err.message : String(err)}`, meaning: 'error' } };
      }
    }
  }

  function onKey(ch: string | undefined, key: RawKey | undefined): void {
    if (stopped) return;
    const name = keyName(ch, key);
    if (name === null) return;
    const step = handleKey(vs, name, keyContext(vs));
    vs = step.vs;
    carryOut(step.effects);
    render();
  }

  screen.on('keypress', onKey);
  screen.on('resize', () => {
    size = '';
    opts.note?.({ type: 'terminal.resized', at: clock.now(), cols: screen.width as number, rows: screen.height as number });
    render();
  });

  /** A replay's move: its state, its events into the log (all again after a move back), its position. */
  function takeFrame(f: ReplayFrame): void {
    state = f.state;
    if (f.rewound) {
      eventLog.clear();
      vs = { ...vs, logBack: 0 };
    }
    const made = eventLog.addAll(f.events);
    if (made > 0 && vs.logBack > 0) vs = { ...vs, logBack: vs.logBack + made };
    if (f.position.ended && !position?.ended && replay?.endNote) vs = { ...vs, status: { text: replay.endNote, meaning: 'warn' } };
    position = f.position;
  }

  // State and events are taken in as they come; frames are drawn at most every frameMs.
  const changes$: Observable<unknown> = opts.replay
    ? opts.replay.frames$.pipe(tap(takeFrame))
    : merge(
        opts.state$.pipe(
          tap((s) => {
            state = s;
            stateArrived = clock.now();
          }),
        ),
        opts.events$.pipe(
          tap((e) => {
            // Keep the lines on screen still while the operator reads back in the log.
            if (eventLog.add(e) && vs.logBack > 0) vs = { ...vs, logBack: vs.logBack + 1 };
          }),
        ),
      );
  const subscription: Subscription = (frameMs > 0 ? changes$.pipe(auditTime(frameMs)) : changes$).subscribe({
    next: () => render(),
    // The screen stays up, with the last state, and says why nothing moves any more.
    error: (err: unknown) => {
      vs = { ...vs, status: { text: `updates stopped: ${err instanceof Error ? err.message : String(err)}`, meaning: 'error' } };
      render();
    },
  });

  function stop(): void {
    if (stopped) return;
    stopped = true;
    subscription.unsubscribe();
    if (ticker) clearInterval(ticker);
    ticker = null;
    screen.destroy();
  }

  render();
  return { screen, render, view: () => vs, stop };
}
