import { safeText } from '../width.js';

/**
 * What a piece of text says, so that a theme can colour it: good, in progress, wrong, and so on;
 * plus the few roles of dialogs and the bar (a key, a button, the focused button).
 */
export type Meaning = 'normal' | 'ok' | 'pending' | 'error' | 'warn' | 'muted' | 'accent' | 'key' | 'button' | 'buttonFocus';

/** A run of width-safe text with one meaning. */
export interface Cell {
  text: string;
  meaning: Meaning;
}

/** A line of a pane: cells side by side. */
export type Line = Cell[];

/** Makes a cell; the text is made width-safe here, so every string shown has been through it. */
export function cell(text: string, meaning: Meaning = 'normal'): Cell {
  return { text: safeText(text), meaning };
}

export function lineText(line: Line): string {
  return line.map((c) => c.text).join('');
}

/**
 * Wraps a line to `width` columns, at a space where there is one, with continuation lines
 * indented by `indent`. Text is width-safe, so a character is a column.
 */
export function wrapLine(line: Line, width: number, indent = 4): Line[] {
  const chars: Array<{ ch: string; meaning: Meaning }> = [];
  for (const c of line) for (const ch of c.text) chars.push({ ch, meaning: c.meaning });
  if (chars.length <= width || width <= indent + 8) return [line];
  const rows: Array<typeof chars> = [];
  let rest = chars;
  let room = width;
  while (rest.length > room) {
    let cut = room;
    const space = rest.slice(0, room + 1).map((c) => c.ch).lastIndexOf(' ');
    if (space > room / 2) cut = space;
    rows.push(rest.slice(0, cut));
    rest = rest.slice(cut);
    while (rest.length > 0 && rest[0].ch === ' ') rest = rest.slice(1);
    room = width - indent;
  }
  if (rest.length > 0) rows.push(rest);
  return rows.map((row, i) => {
    const out: Line = i > 0 ? [{ text: ' '.repeat(indent), meaning: 'normal' }] : [];
    for (const c of row) {
      const last = out[out.length - 1];
      if (last && last.meaning === c.meaning && !(i > 0 && out.length === 1)) last.text += c.ch;
      else out.push({ text: c.ch, meaning: c.meaning });
    }
    return out;
  });
}
