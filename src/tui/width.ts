/**
 * Width-safe text. Names that come from guests, sysfs or pci.ids may hold emoji, CJK, control
 * characters or bidi overrides; blessed 0.1.81 counts each of them as one column (or none), so a
 * single one shifts everything after it and breaks the pane's border. Everything shown in the
 * dashboard goes through `safeText` first, which keeps only characters that are surely one
 * column wide, so that `text.length` (in code points) is the width on screen.
 */

const REPLACEMENT = '?';

/** Characters that take no column: combining marks, joiners, variation selectors, bidi controls. */
function isZeroWidth(cp: number): boolean {
  return (
    (cp >= 0x0300 && cp <= 0x036f) || // combining diacritical marks
    (cp >= 0x0483 && cp <= 0x0489) ||
    (cp >= 0x0591 && cp <= 0x05bd) ||
    (cp >= 0x0610 && cp <= 0x061a) ||
    (cp >= 0x064b && cp <= 0x065f) ||
    cp === 0x00ad || // soft hyphen
    (cp >= 0x200b && cp <= 0x200f) || // zero-width space, joiners, LRM/RLM
    (cp >= 0x202a && cp <= 0x202e) || // bidi embeddings and overrides
    (cp >= 0x2060 && cp <= 0x206f) || // word joiner, invisible operators, bidi isolates
    (cp >= 0x1ab0 && cp <= 0x1aff) ||
    (cp >= 0x1dc0 && cp <= 0x1dff) ||
    (cp >= 0x20d0 && cp <= 0x20ff) || // combining marks for symbols
    (cp >= 0xfe00 && cp <= 0xfe0f) || // variation selectors (emoji presentation)
    (cp >= 0xfe20 && cp <= 0xfe2f) ||
    cp === 0xfeff ||
    (cp >= 0xe0000 && cp <= 0xe0fff) // tags, variation selectors supplement
  );
}

/** Control characters (C0, DEL, C1) and line/paragraph separators. */
function isControl(cp: number): boolean {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029;
}

/**
 * Ranges whose characters every terminal draws one column wide: Latin, Greek, Cyrillic,
 * punctuation, arrows, box drawing and blocks, and a few symbols the dashboard uses itself.
 * Anything else (CJK, Hangul, emoji, pictographs, private use, astral planes) may be two
 * columns or none, depending on the terminal and its font.
 */
function isSingleWidth(cp: number): boolean {
  return (
    (cp >= 0x20 && cp < 0x7f) ||
    (cp >= 0xa0 && cp < 0x0300) ||
    (cp >= 0x0370 && cp < 0x0530) || // Greek, Cyrillic, Armenian
    (cp >= 0x2010 && cp < 0x2028) || // dashes, quotes, bullet, ellipsis
    (cp >= 0x2030 && cp < 0x205f) ||
    (cp >= 0x20a0 && cp < 0x20c0) || // currency
    (cp >= 0x2190 && cp < 0x2200) || // arrows
    (cp >= 0x2500 && cp < 0x25a0) || // box drawing, block elements
    cp === 0x25cf || // black circle
    cp === 0x2713 || // check mark
    cp === 0x2717 // ballot x
  );
}

/** Text with every character one column wide; others are dropped (zero-width) or become `?`. */
export function safeText(input: string): string {
  // Terminal escape sequences first, so that their printable tails do not survive.
  // eslint-disable-next-line no-control-regex -- matching control sequences is the point here
  const text = input.replace(/\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])/g, '');
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp === 0x09) out += ' ';
    else if (isControl(cp) || isZeroWidth(cp)) continue;
    else if (isSingleWidth(cp)) out += ch;
    else out += REPLACEMENT;
  }
  return out;
}

/** Columns taken by text that went through `safeText`. */
export function textWidth(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

const ELLIPSIS = '…';

/** Cuts text to at most `width` columns, marking a cut with an ellipsis. Expects safe text. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  if (width === 1) return ELLIPSIS;
  return chars.slice(0, width - 1).join('') + ELLIPSIS;
}

/** Exactly `width` columns: truncated, then padded on the right (or on the left for `right`). */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(text, width);
  const pad = ' '.repeat(Math.max(0, width - textWidth(cut)));
  return align === 'right' ? pad + cut : cut + pad;
}

/** Escapes blessed's `{tag}` syntax so that names cannot change colours or inject tags. */
export function escapeTags(text: string): string {
  return text.replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
}
