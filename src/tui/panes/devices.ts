/** The devices table: one row per PCI function, only the rows on screen are drawn. */
import type { Device } from '../../core/device.js';
import type { HotslotState } from '../../core/state.js';
import type { Screen } from '../blessed.js';
import type { Rect } from '../layout.js';
import { paintLine } from '../paint.js';
import { cell } from '../present/cells.js';
import { deviceColumns, deviceRow, WIDE_TABLE } from '../present/devices.js';
import { latestOperationByBdf } from '../present/operations.js';
import type { Theme } from '../theme.js';
import { createFrame } from './frame.js';
import { headerLine, tableLine } from './table.js';

export interface DevicesModel {
  state: HotslotState;
  rows: readonly Device[];
  top: number;
  selectedBdf: string | null;
  focused: boolean;
  filter: string;
  now: number;
}

export function createDevicesPane(screen: Screen, theme: Theme) {
  const frame = createFrame(screen, theme);
  return {
    frame,
    /** Rows of devices the pane shows at once (the column header takes one line). */
    pageSize: () => Math.max(1, frame.innerHeight() - 1),
    place: (rect: Rect | null) => frame.place(rect),
    render(m: DevicesModel): void {
      if (!frame.visible()) return;
      const width = frame.innerWidth();
      const columns = deviceColumns(width);
      const wide = width >= WIDE_TABLE;
      const ops = latestOperationByBdf(m.state.operations);
      const total = Object.keys(m.state.devices).length;
      frame.title(m.filter ? `Devices /${m.filter}  ${m.rows.length} of ${total}` : `Devices ${total}`, m.focused);
      const lines = [paintLine(headerLine(columns), theme, { width, row: theme.styles.columnHeader })];
      if (m.rows.length === 0) {
        lines.push(paintLine([cell(total === 0 ? 'no devices yet' : `no device matches "${m.filter}" (Esc clears the filter)`, 'muted')], theme, { width }));
      }
      const end = Math.min(m.rows.length, m.top + frame.innerHeight() - 1);
      for (let i = m.top; i < end; i++) {
        const d = m.rows[i];
        const cells = tableLine(columns, deviceRow(d, { op: ops.get(d.bdf), now: m.now, symbols: theme.symbols, wide }));
        const selected = d.bdf === m.selectedBdf;
        lines.push(paintLine(cells, theme, { width, ...(selected ? { row: m.focused ? theme.styles.selected : theme.styles.selectedBlur } : {}) }));
      }
      frame.show(lines.join('\n'));
    },
  };
}
