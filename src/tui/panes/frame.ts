/** The bordered box every pane lives in: placed by the layout, its border lit when focused. */
import { createBox, type Box, type Screen } from '../blessed.js';
import type { Rect } from '../layout.js';
import { elementStyle, openTags, type Theme } from '../theme.js';
import { escapeTags, safeText, truncate } from '../width.js';

export interface Frame {
  box: Box;
  /** Moves the pane to `rect`, or hides it. */
  place(rect: Rect | null): void;
  visible(): boolean;
  innerWidth(): number;
  innerHeight(): number;
  /** Sets the content only when it changed, so an idle pane costs nothing. */
  show(content: string): void;
  title(text: string, focused: boolean): void;
}

export function createFrame(screen: Screen, theme: Theme, opts: { border?: boolean; style?: 'base' | 'header' | 'bar' | 'dialog' } = {}): Frame {
  const border = opts.border ?? true;
  const base = elementStyle(theme.styles[opts.style ?? 'base']);
  const box = createBox(screen, {
    top: 0,
    left: 0,
    width: 1,
    height: 1,
    hidden: true,
    ...(border ? { border: { type: 'line' as const } } : {}),
    style: { ...base, label: base, ...(border ? { border: { ...base, ...elementStyle(opts.style === 'dialog' ? theme.styles.dialogBorder : theme.styles.border) } } : {}) },
    wrap: false,
  });
  let rect: Rect | null = null;
  let content: string | null = null;
  let label: string | null = null;
  let lit: boolean | null = null;
  return {
    box,
    place(next) {
      if (next === null) {
        if (rect !== null) box.hide();
        rect = null;
        return;
      }
      if (rect === null || rect.top !== next.top || rect.left !== next.left || rect.width !== next.width || rect.height !== next.height) {
        box.top = next.top;
        box.left = next.left;
        box.width = next.width;
        box.height = next.height;
      }
      if (rect === null) box.show();
      rect = next;
    },
    visible: () => rect !== null,
    innerWidth: () => Math.max(0, (rect?.width ?? 0) - (border ? 2 : 0)),
    innerHeight: () => Math.max(0, (rect?.height ?? 0) - (border ? 2 : 0)),
    show(next) {
      if (next === content) return;
      content = next;
      box.setContent(next);
    },
    title(text, focused) {
      if (!border || (text === label && focused === lit)) return;
      label = text;
      lit = focused;
      text = truncate(safeText(text), Math.max(1, (rect?.width ?? 80) - 6));
      const style = focused ? theme.styles.borderFocus : theme.styles.title;
      const open = openTags(style);
      box.setLabel(open ? `${open} ${escapeTags(text)} {/}` : ` ${escapeTags(text)} `);
      // blessed's typings leave `style` as any; the border style is a plain object blessed reads on render.
      if (opts.style !== 'dialog') (box.style as { border: object }).border = { ...base, ...elementStyle(focused ? theme.styles.borderFocus : theme.styles.border) };
    },
  };
}
