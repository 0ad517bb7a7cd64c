/** The guests pane: name, run state, QEMU version, devices held, free hotplug slots. */
import type { GuestState } from '../../core/state.js';
import type { Screen } from '../blessed.js';
import type { Rect } from '../layout.js';
import { paintLine } from '../paint.js';
import { cell } from '../present/cells.js';
import { guestColumns, guestRow } from '../present/guests.js';
import type { Theme } from '../theme.js';
import { headerLine, tableLine } from './table.js';
import { createFrame } from './frame.js';

export interface GuestsModel {
  guests: readonly GuestState[];
  top: number;
  selected: string | null;
  focused: boolean;
  /** A replay: no guest yet means none had connected at this point of the session. */
  replay?: boolean;
}

export function createGuestsPane(screen: Screen, theme: Theme) {
  const frame = createFrame(screen, theme);
  return {
    frame,
    pageSize: () => Math.max(1, frame.innerHeight() - 1),
    place: (rect: Rect | null) => frame.place(rect),
    render(m: GuestsModel): void {
      if (!frame.visible()) return;
      const width = frame.innerWidth();
      const columns = guestColumns(width);
      const connected = m.guests.filter((g) => g.connected).length;
      frame.title(`Guests ${connected}/${m.guests.length}`, m.focused);
      const lines = [paintLine(headerLine(columns), theme, { width, row: theme.styles.columnHeader })];
      if (m.guests.length === 0) {
        const why = m.replay ? 'no guest had connected yet at this point' : 'no guests (give --guest NAME=SOCKET or --guest-dir)';
        lines.push(paintLine([cell(why, 'muted')], theme, { width }));
      }
      const end = Math.min(m.guests.length, m.top + frame.innerHeight() - 1);
      for (let i = m.top; i < end; i++) {
        const g = m.guests[i];
        const selected = m.focused && g.name === m.selected;
        lines.push(paintLine(tableLine(columns, guestRow(g)), theme, { width, ...(selected ? { row: theme.styles.selected } : {}) }));
      }
      frame.show(lines.join('\n'));
    },
  };
}
