/**
 * Keys in, view state and effects out. Pure: the dashboard feeds it keys and carries out the
 * effects (send an intent, exit); the tests call it directly as well as through a terminal.
 */
import type { Device } from '../core/device.js';
import type { ReplayCommand } from '../core/replay.js';
import type { GuestState } from '../core/state.js';
import {
  attachAction,
  detachAction,
  forceReturnAction,
  moveAction,
  quitAction,
  recoverAction,
  retryAction,
  returnAction,
  type ActionContext,
  type ActionResult,
} from './actions.js';
import { commandKey } from './dialogs/command.js';
import { confirmKey } from './dialogs/confirm.js';
import { filterKey } from './dialogs/filter.js';
import { pickGuestKey } from './dialogs/guest-picker.js';
import { helpKey } from './dialogs/help.js';
import { bindingFor, type Action } from './keymap.js';
import { PANE_ORDER, scrollTo, type Step, type ViewState } from './view-state.js';

export interface KeyContext extends ActionContext {
  /** The device rows as shown: filtered, in BDF order. */
  rows: readonly Device[];
  guests: readonly GuestState[];
  /** Rows each scrolling area shows. */
  pages: { devices: number; guests: number; log: number; details: number };
  logLength: number;
  detailsLength: number;
}

const indexCache = new WeakMap<readonly Device[], Map<string, number>>();

function rowIndex(rows: readonly Device[], bdf: string | null): number {
  if (bdf === null) return -1;
  let index = indexCache.get(rows);
  if (!index) {
    index = new Map(rows.map((d, i) => [d.bdf, i]));
    indexCache.set(rows, index);
  }
  return index.get(bdf) ?? -1;
}

const clamp = (n: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, n));

/**
 * Makes the view state fit the state and the screen: a selection that still exists (or the
 * first row), scroll positions that show it, nothing scrolled past the end.
 */
export function normalise(vs: ViewState, ctx: KeyContext): ViewState {
  const { rows, guests, pages } = ctx;
  let i = rowIndex(rows, vs.selectedBdf);
  if (i < 0) i = rows.length > 0 ? 0 : -1;
  const selectedBdf = i >= 0 ? rows[i].bdf : null;
  const deviceTop = scrollTo(vs.deviceTop, Math.max(0, i), pages.devices, rows.length);
  let g = guests.findIndex((x) => x.name === vs.selectedGuest);
  if (g < 0) g = guests.length > 0 ? 0 : -1;
  const selectedGuest = g >= 0 ? guests[g].name : null;
  const guestTop = scrollTo(vs.guestTop, Math.max(0, g), pages.guests, guests.length);
  const logBack = clamp(vs.logBack, 0, Math.max(0, ctx.logLength - pages.log));
  const detailsTop = clamp(vs.detailsTop, 0, Math.max(0, ctx.detailsLength - pages.details));
  const view = vs.view === 'details' && (vs.focus === 'guests' ? selectedGuest === null : selectedBdf === null) ? 'main' : vs.view;
  if (
    selectedBdf === vs.selectedBdf &&
    deviceTop === vs.deviceTop &&
    selectedGuest === vs.selectedGuest &&
    guestTop === vs.guestTop &&
    logBack === vs.logBack &&
    detailsTop === vs.detailsTop &&
    view === vs.view
  )
    return vs;
  return { ...vs, selectedBdf, deviceTop, selectedGuest, guestTop, logBack, detailsTop, view };
}

/** Moves the focused list (or scrolls the focused text) by `delta`, or to an end. */
function move(vs: ViewState, ctx: KeyContext, delta: number | 'top' | 'bottom'): ViewState {
  const target = (current: number, count: number): number =>
    delta === 'top' ? 0 : delta === 'bottom' ? Math.max(0, count - 1) : clamp(current + delta, 0, Math.max(0, count - 1));
  if (vs.view === 'details') {
    const max = Math.max(0, ctx.detailsLength - ctx.pages.details);
    return { ...vs, detailsTop: delta === 'top' ? 0 : delta === 'bottom' ? max : clamp(vs.detailsTop + delta, 0, max) };
  }
  switch (vs.focus) {
    case 'devices': {
      if (ctx.rows.length === 0) return vs;
      const i = target(Math.max(0, rowIndex(ctx.rows, vs.selectedBdf)), ctx.rows.length);
      return { ...vs, selectedBdf: ctx.rows[i].bdf, deviceTop: scrollTo(vs.deviceTop, i, ctx.pages.devices, ctx.rows.length) };
    }
    case 'guests': {
      if (ctx.guests.length === 0) return vs;
      const i = target(Math.max(0, ctx.guests.findIndex((g) => g.name === vs.selectedGuest)), ctx.guests.length);
      return { ...vs, selectedGuest: ctx.guests[i].name, guestTop: scrollTo(vs.guestTop, i, ctx.pages.guests, ctx.guests.length) };
    }
    case 'log': {
      // The log scrolls back from its newest line: up goes back in time.
      const max = Math.max(0, ctx.logLength - ctx.pages.log);
      const back = delta === 'top' ? max : delta === 'bottom' ? 0 : clamp(vs.logBack - delta, 0, max);
      return { ...vs, logBack: back };
    }
  }
}

function page(vs: ViewState, ctx: KeyContext): number {
  if (vs.view === 'details') return ctx.pages.details;
  return Math.max(1, vs.focus === 'devices' ? ctx.pages.devices : vs.focus === 'guests' ? ctx.pages.guests : ctx.pages.log);
}

function applyResult(vs: ViewState, r: ActionResult): Step {
  return { vs: { ...vs, dialog: r.dialog ?? vs.dialog, status: r.status ?? vs.status }, effects: r.effects ?? [] };
}

function act(action: Action, vs: ViewState, ctx: KeyContext): Step {
  const same = (next: ViewState): Step => ({ vs: next, effects: [] });
  switch (action) {
    case 'up':
      return same(move(vs, ctx, -1));
    case 'down':
      return same(move(vs, ctx, 1));
    case 'pageUp':
      return same(move(vs, ctx, -page(vs, ctx)));
    case 'pageDown':
      return same(move(vs, ctx, page(vs, ctx)));
    case 'top':
      return same(move(vs, ctx, 'top'));
    case 'bottom':
      return same(move(vs, ctx, 'bottom'));
    case 'nextPane':
    case 'prevPane': {
      const i = PANE_ORDER.indexOf(vs.focus) + (action === 'nextPane' ? 1 : -1);
      return same({ ...vs, focus: PANE_ORDER[(i + PANE_ORDER.length) % PANE_ORDER.length] });
    }
    case 'open':
      if (vs.focus === 'log') return same(vs);
      if (vs.focus === 'devices' && vs.selectedBdf === null) return same({ ...vs, status: { text: 'no device to show', meaning: 'muted' } });
      if (vs.focus === 'guests' && vs.selectedGuest === null) return same({ ...vs, status: { text: 'no guest to show', meaning: 'muted' } });
      return same({ ...vs, view: 'details', detailsTop: 0 });
    case 'back':
      if (vs.view === 'details') return same({ ...vs, view: 'main' });
      if (vs.filter) return same({ ...vs, filter: '' });
      return same(vs);
    case 'filter':
      return same({ ...vs, view: 'main', focus: 'devices', dialog: { kind: 'filter', text: vs.filter } });
    case 'help':
      return same({ ...vs, dialog: { kind: 'help', scroll: 0 } });
    case 'command':
      return same({ ...vs, dialog: { kind: 'command', text: '' } });
    case 'attach':
      return applyResult(vs, attachAction(ctx, vs.selectedBdf));
    case 'detach':
      return applyResult(vs, detachAction(ctx, vs.selectedBdf));
    case 'move':
      return applyResult(vs, moveAction(ctx, vs.selectedBdf));
    case 'return':
      return applyResult(vs, returnAction(ctx, vs.selectedBdf));
    case 'recover':
      return applyResult(vs, recoverAction(ctx));
    case 'retry':
      return applyResult(vs, retryAction(ctx, vs.selectedBdf));
    case 'forceReturn':
      return applyResult(vs, forceReturnAction(ctx, vs.selectedBdf));
    case 'quit':
      return applyResult(vs, quitAction(ctx));
    case 'interrupt':
      return { vs, effects: [{ kind: 'exit', code: 0 }] };
    case 'replayPause':
      return replay(vs, { kind: 'toggle-pause' });
    case 'replayNext':
      return replay(vs, { kind: 'next-operation' });
    case 'replayPrevious':
      return replay(vs, { kind: 'previous-operation' });
    case 'replayForward':
      return replay(vs, { kind: 'seek', byMs: REPLAY_SEEK_MS });
    case 'replayBack':
      return replay(vs, { kind: 'seek', byMs: -REPLAY_SEEK_MS });
    case 'replayStart':
      return replay(vs, { kind: 'seek-to', to: 'start' });
    case 'replayEnd':
      return replay(vs, { kind: 'seek-to', to: 'end' });
    case 'replayFaster':
      return replay(vs, { kind: 'speed', factor: 2 });
    case 'replaySlower':
      return replay(vs, { kind: 'speed', factor: 0.5 });
  }
}

/** What the seek keys move a replay by. */
export const REPLAY_SEEK_MS = 10_000;

const replay = (vs: ViewState, command: ReplayCommand): Step => ({ vs, effects: [{ kind: 'replay', command }] });

export function handleKey(current: ViewState, key: string, ctx: KeyContext): Step {
  // Ctrl-C leaves from anywhere, dialogs included.
  if (key === 'C-c') return { vs: current, effects: [{ kind: 'exit', code: 0 }] };
  const vs = normalise(current, ctx);
  const d = vs.dialog;
  if (d) {
    switch (d.kind) {
      case 'confirm':
        return confirmKey(vs, d, key);
      case 'pick-guest':
        return pickGuestKey(vs, d, key, ctx);
      case 'help':
        return helpKey(vs, d, key);
      case 'filter':
        return filterKey(vs, d, key);
      case 'command':
        return commandKey(vs, d, key, ctx);
    }
  }
  const binding = bindingFor(vs.view, key, ctx.replay ?? false);
  if (!binding) return { vs, effects: [] };
  // A status line stays until the next key that does something.
  return act(binding.action, { ...vs, status: null }, ctx);
}
