/**
 * Colour themes: JSON files in the package's `themes/` and in `$XDG_CONFIG_HOME/hotslot/themes/`
 * (a user's file of the same name wins). A theme file may set any subset of the styles and
 * symbols; the rest come from `default.json`. Colours are blessed's names or `#rrggbb`; blessed
 * maps them down on 8- and 16-colour terminals, so every theme also marks meaning with
 * attributes (bold, underline, inverse), not with colour alone.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { listThemes, themeDirs, type ThemeDirs } from './theme-files.js';
import { safeText, textWidth } from './width.js';


export class ThemeError extends Error {
  override name = 'ThemeError';
}

const COLOUR_NAMES = [
  'default',
  'black',
  'red',
  'green',
  'yellow',
  'blue',
  'magenta',
  'cyan',
  'white',
  'gray',
  'grey',
  ...['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'].flatMap((c) => [`bright-${c}`, `light-${c}`]),
];

const colour = z.string().refine((c) => COLOUR_NAMES.includes(c) || /^#[0-9a-fA-F]{6}$/.test(c), {
  message: `expected a colour: #rrggbb or one of ${COLOUR_NAMES.filter((c) => !c.startsWith('light-')).join(', ')}`,
});

const styleSchema = z.strictObject({
  fg: colour.optional(),
  bg: colour.optional(),
  bold: z.boolean().optional(),
  underline: z.boolean().optional(),
  inverse: z.boolean().optional(),
});

export type Style = z.infer<typeof styleSchema>;

/** Every style a theme sets; the meanings (ok .. accent) colour cells by what they say. */
export const STYLE_NAMES = [
  'base',
  'header',
  'border',
  'borderFocus',
  'title',
  'columnHeader',
  'selected',
  'selectedBlur',
  'bar',
  'barKey',
  'dialog',
  'dialogBorder',
  'button',
  'buttonFocus',
  'ok',
  'pending',
  'error',
  'warn',
  'muted',
  'accent',
  'sparkline',
] as const;

export type StyleName = (typeof STYLE_NAMES)[number];

const oneColumn = z.string().refine((s) => safeText(s) === s && textWidth(s) === 1, { message: 'expected one single-width character' });

const symbolsSchema = z.strictObject({
  assignable: oneColumn.optional(),
  notAssignable: oneColumn.optional(),
  stuck: oneColumn.optional(),
  spinner: z.array(oneColumn).min(1).optional(),
});

export type Symbols = Required<z.infer<typeof symbolsSchema>>;

const themeFileSchema = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  /** The theme to use on terminals of fewer than 256 colours, when this one uses #rrggbb colours. */
  fallback: z.string().optional(),
  styles: z.strictObject(Object.fromEntries(STYLE_NAMES.map((n) => [n, styleSchema.optional()])) as Record<StyleName, z.ZodOptional<typeof styleSchema>>).optional(),
  symbols: symbolsSchema.optional(),
});

type ThemeFile = z.infer<typeof themeFileSchema>;

export interface Theme {
  name: string;
  /** The file it came from. */
  file: string;
  styles: Record<StyleName, Style>;
  symbols: Symbols;
  /**
   * What to draw with on a terminal of fewer than 256 colours. blessed maps #rrggbb down to the
   * first 8 colours by distance, which turns Solarized's greys into black on black; a theme of
   * true colours therefore names a theme of basic colours to fall back to (`default` if none).
   */
  lowColour: Theme | null;
}

const FALLBACK_SYMBOLS: Symbols = { assignable: '✓', notAssignable: '✗', stuck: '!', spinner: ['-', '\\', '|', '/'] };

function fieldPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

function readThemeFile(file: string): ThemeFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ThemeError(`theme file ${file}: ${err instanceof SyntaxError ? 'not valid JSON: ' : ''}${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = themeFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const where = keys.length > 0 ? fieldPath([...issue.path, keys[0]]) : fieldPath(issue.path);
    const what = keys.length > 0 ? 'unknown field' : issue.message;
    throw new ThemeError(`theme file ${file}: ${where}: ${what}`);
  }
  return parsed.data;
}

function resolve(name: string, file: string, base: ThemeFile | null, own: ThemeFile): Omit<Theme, 'lowColour'> {
  const styles = {} as Record<StyleName, Style>;
  for (const n of STYLE_NAMES) styles[n] = own.styles?.[n] ?? base?.styles?.[n] ?? {};
  return { name, file, styles, symbols: { ...FALLBACK_SYMBOLS, ...base?.symbols, ...own.symbols } };
}

/** Whether a theme uses #rrggbb colours (which blessed maps down badly below 256 colours). */
export function usesTrueColour(styles: Record<StyleName, Style>): boolean {
  return Object.values(styles).some((s) => s.fg?.startsWith('#') || s.bg?.startsWith('#'));
}

/** The theme to draw with on a terminal of `colours` colours. */
export function themeForColours(theme: Theme, colours: number): Theme {
  return colours < 256 && theme.lowColour ? theme.lowColour : theme;
}

/**
 * Loads a theme by name. Without a name: `monochrome` when `NO_COLOR` is set (no-color.org),
 * else `default`; a name given on the command line wins over `NO_COLOR`, as the convention says.
 */
export function loadTheme(name: string | undefined, env: NodeJS.ProcessEnv = process.env, dirs: ThemeDirs = themeDirs(env)): Theme {
  const wanted = name ?? (env.NO_COLOR ? 'monochrome' : 'default');
  const themes = listThemes(dirs);
  const load = (themeName: string, from: string | null): Theme => {
    const file = themes.get(themeName);
    if (!file) throw new ThemeError(`unknown theme "${themeName}"${from ? ` (the fallback of ${from})` : ''}; themes: ${[...themes.keys()].join(', ')}`);
    const own = readThemeFile(file);
    const defaultFile = themes.get('default');
    const base = themeName === 'default' || !defaultFile ? null : readThemeFile(defaultFile);
    const theme = resolve(themeName, file, base, own);
    const fallback = own.fallback ?? 'default';
    const low = usesTrueColour(theme.styles) && fallback !== themeName && from === null ? load(fallback, file) : null;
    return { ...theme, lowColour: low };
  };
  return load(wanted, null);
}

function tagColour(c: string): string {
  return c.startsWith('#') ? c.toLowerCase() : c.replace(/-/g, '');
}

/** blessed tags that switch a style on; `{/}` switches everything back to the pane's own style. */
export function openTags(style: Style): string {
  let out = '';
  if (style.fg && style.fg !== 'default') out += `{${tagColour(style.fg)}-fg}`;
  if (style.bg && style.bg !== 'default') out += `{${tagColour(style.bg)}-bg}`;
  if (style.bold) out += '{bold}';
  if (style.underline) out += '{underline}';
  if (style.inverse) out += '{inverse}';
  return out;
}

/** The style as blessed's element options want it. */
export function elementStyle(style: Style): { fg?: string; bg?: string; bold?: boolean; underline?: boolean; inverse?: boolean } {
  const out: { fg?: string; bg?: string; bold?: boolean; underline?: boolean; inverse?: boolean } = {};
  if (style.fg && style.fg !== 'default') out.fg = tagColour(style.fg);
  if (style.bg && style.bg !== 'default') out.bg = tagColour(style.bg);
  if (style.bold) out.bold = true;
  if (style.underline) out.underline = true;
  if (style.inverse) out.inverse = true;
  return out;
}
