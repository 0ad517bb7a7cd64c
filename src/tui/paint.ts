/** Cells to blessed's tagged text, with the theme's style for each meaning. */
import type { Cell, Meaning } from './present/cells.js';
import { openTags, type Style, type StyleName, type Theme } from './theme.js';
import { escapeTags, fit, textWidth, truncate } from './width.js';

const STYLE_OF: Record<Meaning, StyleName | null> = {
  normal: null,
  ok: 'ok',
  pending: 'pending',
  error: 'error',
  warn: 'warn',
  muted: 'muted',
  accent: 'accent',
  key: 'barKey',
  button: 'button',
  buttonFocus: 'buttonFocus',
};

export function meaningStyle(theme: Theme, meaning: Meaning): Style {
  const name = STYLE_OF[meaning];
  return name ? theme.styles[name] : {};
}

function painted(text: string, style: Style): string {
  const open = openTags(style);
  return open ? `${open}${escapeTags(text)}{/}` : escapeTags(text);
}

export interface PaintOptions {
  /** Cut the line to this many columns. */
  width?: number;
  /** The whole line in one style (a selected row); the cells' own colours give way to it. */
  row?: Style;
  /**
   * On a coloured bar or dialog (header, bottom bar, dialogs) the meanings' colours would
   * clash with its background: keep only bold for what needs attention.
   */
  onBar?: boolean;
}

const ATTENTION: ReadonlySet<Meaning> = new Set(['error', 'warn', 'pending', 'accent']);

/** Cells as one line of tagged text, cut to `width` columns. */
export function paintLine(cells: readonly Cell[], theme: Theme, opts: PaintOptions = {}): string {
  let left = opts.width ?? Infinity;
  const parts: Array<{ text: string; meaning: Meaning }> = [];
  for (const c of cells) {
    if (left <= 0) break;
    const w = textWidth(c.text);
    const text = w > left ? truncate(c.text, left) : c.text;
    left -= textWidth(text);
    parts.push({ text, meaning: c.meaning });
  }
  if (opts.row) {
    const text = parts.map((p) => p.text).join('');
    return painted(opts.width !== undefined ? fit(text, opts.width) : text, opts.row);
  }
  return parts
    .map((p) => {
      if (opts.onBar) {
        if (p.meaning === 'key' || p.meaning === 'button' || p.meaning === 'buttonFocus') return painted(p.text, meaningStyle(theme, p.meaning));
        return painted(p.text, ATTENTION.has(p.meaning) ? { bold: true } : {});
      }
      return painted(p.text, meaningStyle(theme, p.meaning));
    })
    .join('');
}
