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
  | 'interrupt';

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
];

const byView = new Map<View, Map<string, Binding>>(
  (['main', 'details'] as const).map((v) => [v, new Map(BINDINGS.filter((b) => b.views.includes(v)).flatMap((b) => b.keys.map((k) => [k, b] as const)))]),
);

export function bindingFor(view: View, key: string): Binding | undefined {
  return byView.get(view)?.get(key);
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
export function barItems(view: View, opts: { readOnly: boolean; stuck: boolean; filtering: boolean }): BarItem[] {
  const items: BarItem[] = [];
  for (const b of BINDINGS) {
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
