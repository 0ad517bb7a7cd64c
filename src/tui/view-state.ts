/**
 * What the dashboard shows besides the state itself: the view, the focused pane, the selection,
 * scroll positions, the filter, the open dialog and the status line. Plain data, changed only by
 * the controller, so that a key's effect can be tested without a terminal.
 */
import type { Intent } from '../core/operations.js';
import type { ReplayCommand } from '../core/replay.js';
import type { Line, Meaning } from './present/cells.js';
import type { View } from './keymap.js';

export type PaneId = 'devices' | 'guests' | 'log';

export const PANE_ORDER: readonly PaneId[] = ['devices', 'guests', 'log'];

export interface Status {
  text: string;
  meaning: Meaning;
}

export interface GuestChoice {
  name: string;
  freeSlots: number;
}

export type Dialog =
  | {
      kind: 'confirm';
      title: string;
      lines: Line[];
      /** No is the default: Enter on a fresh dialog answers No. */
      choice: 'no' | 'yes';
      onYes: Effect[];
    }
  | { kind: 'pick-guest'; purpose: 'attach' | 'move'; bdf: string; choices: GuestChoice[]; index: number; note: string | null }
  | { kind: 'help'; scroll: number }
  | { kind: 'filter'; text: string }
  | { kind: 'command'; text: string };

export type Effect =
  | { kind: 'intent'; intent: Intent; label: string }
  | { kind: 'exit'; code: number }
  /** The operator answered a question (for the session recording). */
  | { kind: 'answer'; question: string; about: string; answer: 'yes' | 'no' }
  | { kind: 'replay'; command: ReplayCommand };

/** What a key did: the new view state, and what to do outside (send an intent, exit). */
export interface Step {
  vs: ViewState;
  effects: Effect[];
}

export interface ViewState {
  view: View;
  focus: PaneId;
  filter: string;
  /** The selected device, by BDF, so that it stays selected when rows come and go. */
  selectedBdf: string | null;
  /** First device row shown. */
  deviceTop: number;
  selectedGuest: string | null;
  guestTop: number;
  /** Lines scrolled back from the newest log line; 0 follows the log. */
  logBack: number;
  detailsTop: number;
  dialog: Dialog | null;
  status: Status | null;
}

export const initialViewState: ViewState = {
  view: 'main',
  focus: 'devices',
  filter: '',
  selectedBdf: null,
  deviceTop: 0,
  selectedGuest: null,
  guestTop: 0,
  logBack: 0,
  detailsTop: 0,
  dialog: null,
  status: null,
};

/** The first row to show so that `index` is visible in a window of `height` rows. */
export function scrollTo(top: number, index: number, height: number, count: number): number {
  const h = Math.max(1, height);
  let t = Math.min(top, Math.max(0, count - h));
  if (index < t) t = index;
  if (index >= t + h) t = index - h + 1;
  return Math.max(0, t);
}
