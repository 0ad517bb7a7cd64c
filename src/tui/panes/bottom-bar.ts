/** The bottom bar: the keys of the current view, a status line, or the filter and command prompts. */
import type { Screen } from '../blessed.js';
import { barItems, DIALOG_BAR, type BarItem, type View } from '../keymap.js';
import type { Rect } from '../layout.js';
import { paintLine } from '../paint.js';
import { cell, type Cell } from '../present/cells.js';
import type { Theme } from '../theme.js';
import type { Dialog, Status } from '../view-state.js';
import { textWidth } from '../width.js';
import { createFrame } from './frame.js';

export interface BarModel {
  view: View;
  dialog: Dialog | null;
  status: Status | null;
  readOnly: boolean;
  stuck: boolean;
  filter: string;
  replay?: boolean;
}

const itemWidth = (i: BarItem): number => textWidth(i.key) + textWidth(i.label) + 3;

/** The items that fit in `width` columns, dropping the lowest ranks first, in their own order. */
function fitting(items: readonly BarItem[], width: number): BarItem[] {
  const shown = items.filter((i) => !i.off);
  while (shown.length > 0 && shown.reduce((n, i) => n + itemWidth(i), 0) > width) {
    const least = shown.reduce((a, b) => ((b.rank ?? 9) < (a.rank ?? 9) ? b : a));
    shown.splice(shown.indexOf(least), 1);
  }
  return shown;
}

function keys(items: readonly BarItem[]): Cell[] {
  return items.flatMap((i) => [cell(` ${i.key}`, 'key'), cell(` ${i.label} `)]);
}

/** The cells of the bar, pure (tested without a terminal). */
export function barCells(m: BarModel, width: number): Cell[] {
  const d = m.dialog;
  if (d?.kind === 'filter' || d?.kind === 'command') {
    const prompt = [cell(d.kind === 'filter' ? ' /' : ' :', 'key'), cell(d.text), cell('_', 'pending')];
    const hint = keys(DIALOG_BAR[d.kind]);
    const used = prompt.reduce((n, c) => n + textWidth(c.text), 0);
    const hintWidth = hint.reduce((n, c) => n + textWidth(c.text), 0);
    return used + hintWidth + 2 <= width ? [...prompt, cell(' '.repeat(width - used - hintWidth)), ...hint] : prompt;
  }
  const items = d ? DIALOG_BAR[d.kind] : barItems(m.view, { readOnly: m.readOnly, stuck: m.stuck, filtering: m.filter !== '', replay: m.replay ?? false });
  const status = m.status ? [cell(` ${m.status.text} `, m.status.meaning), cell('│', 'muted')] : [];
  const left = width - status.reduce((n, c) => n + textWidth(c.text), 0);
  return [...status, ...keys(fitting(items, left))];
}

export function createBottomBar(screen: Screen, theme: Theme) {
  const frame = createFrame(screen, theme, { border: false, style: 'bar' });
  return {
    frame,
    place: (rect: Rect | null) => frame.place(rect),
    render(m: BarModel): void {
      if (!frame.visible()) return;
      const width = frame.innerWidth();
      frame.show(paintLine(barCells(m, width), theme, { width, onBar: true }));
    },
  };
}
