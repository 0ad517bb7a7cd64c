/** The details of the selected device (everything `check` says) or of the selected guest. */
import type { Screen } from '../blessed.js';
import type { Rect } from '../layout.js';
import { paintLine } from '../paint.js';
import type { Line } from '../present/cells.js';
import type { Theme } from '../theme.js';
import { createFrame } from './frame.js';

export interface DetailsModel {
  title: string;
  lines: readonly Line[];
  top: number;
  focused: boolean;
}

export function createDetailsPane(screen: Screen, theme: Theme) {
  const frame = createFrame(screen, theme);
  return {
    frame,
    pageSize: () => Math.max(1, frame.innerHeight()),
    place: (rect: Rect | null) => frame.place(rect),
    render(m: DetailsModel): void {
      if (!frame.visible()) return;
      const width = frame.innerWidth();
      const more = m.lines.length > m.top + frame.innerHeight() ? ' ↓' : '';
      frame.title(`${m.title}${m.top > 0 ? ' ↑' : ''}${more}`, m.focused);
      frame.show(
        m.lines
          .slice(m.top, m.top + frame.innerHeight())
          .map((l) => paintLine(l, theme, { width }))
          .join('\n'),
      );
    },
  };
}
