/** The box a dialog is drawn in: centred over the dashboard, sized to what it says. */
import type { Screen } from '../blessed.js';
import { confirmView, type DialogView } from '../dialogs/confirm.js';
import { pickGuestView } from '../dialogs/guest-picker.js';
import { helpView } from '../dialogs/help.js';
import { paintLine } from '../paint.js';
import { lineText, wrapLine } from '../present/cells.js';
import type { Theme } from '../theme.js';
import type { Dialog } from '../view-state.js';
import { textWidth } from '../width.js';
import { createFrame } from './frame.js';

export function dialogView(d: Dialog, readOnly: boolean, replay = false): DialogView | null {
  switch (d.kind) {
    case 'confirm':
      return confirmView(d);
    case 'pick-guest':
      return pickGuestView(d);
    case 'help':
      return helpView(readOnly, replay);
    case 'filter':
    case 'command':
      // Drawn in the bottom bar, as a prompt.
      return null;
  }
}

export function createDialogPane(screen: Screen, theme: Theme) {
  const frame = createFrame(screen, theme, { style: 'dialog' });
  return {
    frame,
    render(d: Dialog | null, readOnly: boolean, cols: number, rows: number, replay = false): void {
      const view = d ? dialogView(d, readOnly, replay) : null;
      if (!d || !view) {
        frame.place(null);
        return;
      }
      const longest = Math.max(textWidth(view.title) + 6, ...view.lines.map((l) => textWidth(lineText(l))));
      const width = Math.min(cols - 2, Math.max(44, longest + 4));
      const lines = view.lines.flatMap((l) => wrapLine(l, width - 3));
      const height = Math.min(rows - 2, lines.length + 2);
      frame.place({ top: Math.max(1, Math.floor((rows - height) / 2)), left: Math.floor((cols - width) / 2), width, height });
      frame.box.setFront();
      const inner = height - 2;
      const maxScroll = Math.max(0, lines.length - inner);
      const scroll = d.kind === 'help' ? Math.min(d.scroll, maxScroll) : 0;
      frame.title(`${view.title}${scroll > 0 ? ' ↑' : ''}${scroll + inner < lines.length ? ' ↓' : ''}`, true);
      frame.show(
        lines
          .slice(scroll, scroll + inner)
          .map((l) => ' ' + paintLine(l, theme, { width: width - 3, onBar: true }))
          .join('\n'),
      );
    },
  };
}
