/**
 * Every key of the dashboard, once: the controller looks actions up here, the help dialog and
 * the bottom bar are drawn from here, and the tests walk this table, so that what the help
 * says is what the keys do.
 */
import type { RawKey } from './blessed.js';

export type Action =
  | 'up'
  | 'down'
  | 'pageUp'
  | 'pageDown'
  | 'top'
  | 'bottom'
  | 'nextPane'
  | 'prevPane'
  | 'open'
  | 'back'
  | 'filter'
  | 'attach'
  | 'detach'
  | 'move'
  | 'return'
  | 'recover'
  | 'retry'
  | 'forceReturn'
  | 'help'
  | 'command'
  | 'quit'
  | 'interrupt'
  | 'replayPause'
  | 'replayNext'
  | 'replayPrevious'
  | 'replayBack'
  | 'replayForward'
  | 'replayStart'
  | 'replayEnd'
  | 'replayFaster'
  | 'replaySlower';

export type View = 'main' | 'details';

export interface Binding {
  /** Key names as `keyName` gives them. */
  keys: readonly string[];
  action: Action;
  /** What the help dialog says. */
  help: string;
  /** Short word for the bottom bar; bindings without one are only in the help. */
  bar?: string;
  /** When the bar is too narrow, the lowest ranks go first. */
  rank?: number;
  /** Sends an intent (after a confirmation); off with --read-only. */
  changes?: boolean;
  /** Only in a replay, where its keys win over the same keys of other bindings. */
  replay?: boolean;
  views: readonly View[];
}

const BOTH: readonly View[] = ['main', 'details'];

export const BINDINGS: readonly Binding[] = [
  { keys: ['up', 'k'], action: 'up', help: 'move up (or scroll)', views: BOTH },
  { keys: ['down', 'j'], action: 'down', help: 'move down (or scroll)', views: BOTH },
  { keys: ['pageup', 'C-b'], action: 'pageUp', help: 'one page up', views: BOTH },
  { keys: ['pagedown', 'C-f'], action: 'pageDown', help: 'one page down', views: BOTH },
  { keys: ['g', 'home'], action: 'top', help: 'go to the first row', views: BOTH },
  { keys: ['G', 'end'], action: 'bottom', help: 'go to the last row', views: BOTH },
  { keys: ['tab'], action: 'nextPane', help: 'next pane (devices, guests, log)', bar: 'pane', rank: 2, views: ['main'] },
  { keys: ['S-tab'], action: 'prevPane', help: 'previous pane', views: ['main'] },
  { keys: ['enter'], action: 'open', help: 'details of the selected device or guest', bar: 'details', rank: 5, views: ['main'] },
  { keys: ['escape'], action: 'back', help: 'back to the dashboard; on the dashboard, clear the filter', bar: 'back', rank: 9, views: BOTH },
  { keys: ['/'], action: 'filter', help: 'filter devices by BDF, vendor, name, driver or owner', bar: 'filter', rank: 7, views: BOTH },
  { keys: ['a'], action: 'attach', help: 'attach the device to a guest (pick the guest)', bar: 'attach', rank: 8, changes: true, views: BOTH },
  { keys: ['d'], action: 'detach', help: 'detach the device from its guest', bar: 'detach', rank: 8, changes: true, views: BOTH },
  { keys: ['m'], action: 'move', help: 'move the device to another guest (pick the guest)', bar: 'move', rank: 6, changes: true, views: BOTH },
  { keys: ['r'], action: 'return', help: 'return a parked (vfio-pci) device to its host driver', bar: 'return', rank: 6, changes: true, views: BOTH },
  { keys: ['R'], action: 'recover', help: 'recover: finish or roll back unfinished operations', changes: true, views: BOTH },
  { keys: ['t'], action: 'retry', help: 'retry the operation a stuck device is in', changes: true, views: BOTH },
  { keys: ['X'], action: 'forceReturn', help: 'force a stuck device back to the host', changes: true, views: BOTH },
  { keys: ['?', 'f1'], action: 'help', help: 'this help', bar: 'help', rank: 10, views: BOTH },
  { keys: [':'], action: 'command', help: 'command line: attach BDF GUEST, detach BDF, move BDF GUEST, q', bar: 'cmd', rank: 4, views: BOTH },
  { keys: ['q', 'f10'], action: 'quit', help: 'quit (asks first while an operation runs)', bar: 'quit', rank: 9, views: BOTH },
  { keys: ['C-c'], action: 'interrupt', help: 'leave at once, whatever is open', views: BOTH },
  { keys: [' '], action: 'replayPause', help: 'pause or play the replay (at the end: play it again)', bar: 'pause', rank: 10, replay: true, views: BOTH },
  { keys: ['n'], action: 'replayNext', help: 'to the next start or end of an operation, paused there', bar: 'next op', rank: 8, replay: true, views: BOTH },
  { keys: ['p'], action: 'replayPrevious', help: 'back to the previous start or end of an operation, paused there', replay: true, views: BOTH },
  { keys: ['right'], action: 'replayForward', help: '10 s forward in the recording', bar: '+10s', rank: 7, replay: true, views: BOTH },
  { keys: ['left'], action: 'replayBack', help: '10 s back in the recording', bar: '-10s', rank: 7, replay: true, views: BOTH },
  { keys: ['home'], action: 'replayStart', help: 'to the start of the recording', replay: true, views: BOTH },
  { keys: ['end'], action: 'replayEnd', help: 'to the end of the recording', replay: true, views: BOTH },
  { keys: ['+'], action: 'replayFaster', help: 'play twice as fast', replay: true, views: BOTH },
  { keys: ['-'], action: 'replaySlower', help: 'play half as fast', replay: true, views: BOTH },
];

/**
 * The bindings in force, with the keys each really has: in a replay its own bindings come first
 * and take their keys from the others (Home and End move the replay, not the selection); live,
 * the replay's bindings are not there at all.
 */
export function bindingsIn(replay: boolean): readonly Binding[] {
  return replay ? REPLAY_BINDINGS : LIVE_BINDINGS;
}

const LIVE_BINDINGS: readonly Binding[] = BINDINGS.filter((b) => !b.replay);
const REPLAY_KEYS = new Set(BINDINGS.filter((b) => b.replay).flatMap((b) => b.keys));
const REPLAY_BINDINGS: readonly Binding[] = [
  ...BINDINGS.filter((b) => b.replay),
  ...LIVE_BINDINGS.map((b) => ({ ...b, keys: b.keys.filter((k) => !REPLAY_KEYS.has(k)) })).filter((b) => b.keys.length > 0),
];

function keyTable(bindings: readonly Binding[]): Map<View, Map<string, Binding>> {
  return new Map((['main', 'details'] as const).map((v) => [v, new Map(bindings.filter((b) => b.views.includes(v)).flatMap((b) => b.keys.map((k) => [k, b] as const)))]));
}

const live = keyTable(LIVE_BINDINGS);
const replaying = keyTable(REPLAY_BINDINGS);

export function bindingFor(view: View, key: string, replay = false): Binding | undefined {
  return (replay ? replaying : live).get(view)?.get(key);
}

/**
 * A key's name: the character itself for printable keys (`a`, `R`, `/`, `?`), else blessed's
 * full name (`enter`, `escape`, `S-tab`, `C-c`, `f1`, `pagedown`). Null for keys to ignore:
 * blessed reports Enter twice, as `return` and as `enter`.
 */
export function keyName(ch: string | undefined, key: RawKey | undefined): string | null {
  const full = key?.full ?? key?.name ?? '';
  if (full === 'return') return null;
  if (ch && ch.length === 1 && ch >= ' ' && ch !== '\x7f' && !key?.ctrl && !key?.meta) return ch;
  return full || null;
}

/** Keys shown for a binding in the help and the bar: `↑/k`, `PgDn`, `F1`. */
export function keyLabel(key: string): string {
  const labels: Record<string, string> = {
    up: '↑',
    down: '↓',
    left: '←',
    right: '→',
    ' ': 'Space',
    pageup: 'PgUp',
    pagedown: 'PgDn',
    home: 'Home',
    end: 'End',
    tab: 'Tab',
    'S-tab': 'S-Tab',
    enter: 'Enter',
    escape: 'Esc',
    f1: 'F1',
    f10: 'F10',
    'C-c': 'Ctrl-C',
    'C-b': 'Ctrl-B',
    'C-f': 'Ctrl-F',
  };
  return labels[key] ?? key;
}

export interface BarItem {
  key: string;
  label: string;
  rank?: number;
  /** Shown but turned off (read-only). */
  off?: boolean;
}

/** The bottom bar of a view: its keys, with the stuck device's retry and force-return when it has one. */
export function barItems(view: View, opts: { readOnly: boolean; stuck: boolean; filtering: boolean; replay?: boolean }): BarItem[] {
  const items: BarItem[] = [];
  for (const b of bindingsIn(opts.replay ?? false)) {
    if (!b.views.includes(view)) continue;
    const offered = b.bar !== undefined || (opts.stuck && (b.action === 'retry' || b.action === 'forceReturn'));
    if (!offered) continue;
    if (b.action === 'back' && view === 'main' && !opts.filtering) continue;
    const label = b.bar ?? (b.action === 'retry' ? 'retry' : 'force-return');
    const rank = b.rank ?? 9;
    items.push({ key: keyLabel(b.keys[0]), label, rank, ...(b.changes && opts.readOnly ? { off: true } : {}) });
  }
  return items;
}

/** The bar while a dialog is open. */
export const DIALOG_BAR: Record<'confirm' | 'pick-guest' | 'help' | 'filter' | 'command', BarItem[]> = {
  confirm: [
    { key: '←/→', label: 'choose' },
    { key: 'Enter', label: 'answer' },
    { key: 'y', label: 'yes' },
    { key: 'n/Esc', label: 'no' },
  ],
  'pick-guest': [
    { key: '↑/↓', label: 'choose' },
    { key: 'Enter', label: 'pick' },
    { key: 'Esc', label: 'cancel' },
  ],
  help: [
    { key: '↑/↓', label: 'scroll' },
    { key: 'Esc', label: 'close' },
  ],
  filter: [
    { key: 'Enter', label: 'keep' },
    { key: 'Esc', label: 'clear' },
  ],
  command: [
    { key: 'Enter', label: 'run' },
    { key: 'Esc', label: 'cancel' },
  ],
};
