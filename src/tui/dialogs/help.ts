/** The keys, from the keymap itself, so the help cannot drift from what the keys do. */
import { BINDINGS, bindingsIn, keyLabel } from '../keymap.js';
import { cell, type Line } from '../present/cells.js';
import type { Dialog, Step, ViewState } from '../view-state.js';
import type { DialogView } from './confirm.js';

export type HelpDialog = Extract<Dialog, { kind: 'help' }>;

export function helpKey(vs: ViewState, d: HelpDialog, key: string): Step {
  switch (key) {
    case 'up':
    case 'k':
      return { vs: { ...vs, dialog: { ...d, scroll: Math.max(0, d.scroll - 1) } }, effects: [] };
    case 'down':
    case 'j':
      return { vs: { ...vs, dialog: { ...d, scroll: Math.min(d.scroll + 1, BINDINGS.length) } }, effects: [] };
    case 'escape':
    case 'q':
    case '?':
    case 'f1':
    case 'enter':
      return { vs: { ...vs, dialog: null }, effects: [] };
    default:
      return { vs, effects: [] };
  }
}

export function helpView(readOnly: boolean, replay = false): DialogView {
  const lines: Line[] = [];
  if (replay) lines.push([cell('  This is a replay of a recorded session: it shows, it changes nothing.', 'warn')]);
  const off = replay ? ' (off: replay)' : ' (off: read-only)';
  for (const b of bindingsIn(replay)) {
    const keys = b.keys.map(keyLabel).join(', ');
    lines.push([cell(`  ${keys.padEnd(14)} `, 'key'), cell(b.help, b.changes && readOnly ? 'muted' : 'normal'), cell(b.changes && readOnly ? off : '', 'warn')]);
  }
  lines.push([]);
  lines.push([cell('  Every change asks first, with No as the default.', 'muted')]);
  lines.push([cell('  :attach BDF GUEST  :detach BDF  :move BDF GUEST  :return BDF', 'muted')]);
  lines.push([cell('  :retry BDF  :force-return BDF  :recover  :filter TEXT  :q  :q!', 'muted')]);
  return { title: 'Keys', lines };
}
