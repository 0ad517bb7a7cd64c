/** The header line: host, kernel, IOMMU, guests, the operation in progress, read-only and mode flags. */
import type { ReplayPosition } from '../../core/replay.js';
import type { HotslotState } from '../../core/state.js';
import type { Screen } from '../blessed.js';
import type { Rect } from '../layout.js';
import { paintLine } from '../paint.js';
import { headerCells, type HeaderInfo } from '../present/header.js';
import type { Theme } from '../theme.js';
import { createFrame } from './frame.js';

export function createHeaderPane(screen: Screen, theme: Theme) {
  const frame = createFrame(screen, theme, { border: false, style: 'header' });
  return {
    frame,
    place: (rect: Rect | null) => frame.place(rect),
    render(state: HotslotState, info: HeaderInfo, readOnly: boolean, now: number, replay: ReplayPosition | null = null): void {
      if (!frame.visible()) return;
      const width = frame.innerWidth();
      frame.show(paintLine(headerCells(state, info, readOnly, now, theme.symbols.spinner, width, replay), theme, { width, onBar: true }));
    },
  };
}
