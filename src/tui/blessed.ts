/**
 * The one module that touches blessed and blessed-contrib (DESIGN.md section 7): blessed 0.1.81
 * is unmaintained, so its quirks are handled here and nowhere else.
 */
import { createRequire } from 'node:module';
import blessed from 'blessed';

export type Screen = blessed.Widgets.Screen;
export type Box = blessed.Widgets.BoxElement;
export type BoxOptions = blessed.Widgets.BoxOptions;

/** A key as blessed reports it. */
export interface RawKey {
  name?: string;
  full?: string;
  ctrl?: boolean;
  meta?: boolean;
  shift?: boolean;
  sequence?: string;
}

/**
 * blessed cannot read the terminfo format of Debian's newer `*-256color` entries: it falls back
 * to 8 colours for tmux-256color and prints garbage for screen-256color. Every such terminal
 * speaks xterm's 256-colour dialect, so we name that one instead.
 */
export function terminalName(term: string | undefined): string {
  if (!term) return 'xterm';
  if (/-(256colou?r|direct)$/.test(term)) return 'xterm-256color';
  return term;
}

export interface ScreenOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  terminal: string | undefined;
  title?: string;
}

export function createScreen(opts: ScreenOptions): Screen {
  return blessed.screen({
    // @types/blessed has input and output swapped (input: Writable); blessed itself takes any
    // stream with isTTY, such as the PassThrough of the fake terminal in the tests.
    input: opts.input as unknown as blessed.Widgets.IScreenOptions['input'],
    output: opts.output as unknown as blessed.Widgets.IScreenOptions['output'],
    terminal: terminalName(opts.terminal),
    warnings: false,
    smartCSR: true,
    // Names are made single-width by width.ts; blessed's own wide-character handling is buggy.
    fullUnicode: false,
    autoPadding: true,
    title: opts.title ?? 'hotslot',
  });
}

/** Colours the terminal has, as blessed understood its terminfo. */
export function colourCount(screen: Screen): number {
  // Tput's typings leave out `colors`, which blessed sets from terminfo.
  return (screen.tput as unknown as { colors: number }).colors;
}

export function createBox(screen: Screen, options: BoxOptions): Box {
  return blessed.box({ parent: screen, tags: true, ...options });
}

export interface Sparkline extends Box {
  setData(titles: string[], datasets: number[][]): void;
}

type SparklineFactory = (options: BoxOptions & { style?: Record<string, unknown> }) => Sparkline;

const require = createRequire(import.meta.url);
let sparklineFactory: SparklineFactory | null = null;

/**
 * blessed-contrib's sparkline. Only that widget is loaded (the package's index pulls in maps,
 * markdown and pictures). Contrib widgets do not re-layout on resize: the caller rebuilds it.
 */
export function createSparkline(screen: Screen, options: BoxOptions): Sparkline {
  // contrib ships no typings for its widget files.
  sparklineFactory ??= require('blessed-contrib/lib/widget/sparkline.js') as SparklineFactory;
  const widget = sparklineFactory({ tags: true, ...options });
  screen.append(widget);
  return widget;
}

/** The part of blessed's colour module that its typings leave out. */
interface BlessedColours {
  convert(colour: string): number;
  reduce(colour: number, total: number): number;
}

/** What a colour becomes on a terminal with `colours` colours (blessed's own mapping); -1 is the terminal's default. */
export function reduceColour(colour: string, colours: number): number {
  const api = blessed.colors as unknown as BlessedColours;
  const c = api.convert(colour.startsWith('#') ? colour : colour.replace(/-/g, ''));
  return c === 0x1ff ? -1 : api.reduce(c, colours);
}
