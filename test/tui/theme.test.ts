import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reduceColour, terminalName } from '../../src/tui/blessed.js';
import { loadTheme, STYLE_NAMES, ThemeError, themeForColours, type Style, type Theme } from '../../src/tui/theme.js';
import { listThemes, themeDirs } from '../../src/tui/theme-files.js';
import { labState } from './fixtures.js';
import { openDashboard, type Harness } from './harness.js';

const BUILT_IN = ['default', 'high-contrast', 'monochrome', 'solarized-dark'];

let config: string;
let h: Harness | undefined;
beforeEach(() => {
  config = mkdtempSync(join(tmpdir(), 'hotslot-themes-'));
});
afterEach(() => {
  h?.close();
  h = undefined;
  rmSync(config, { recursive: true, force: true });
});

/** A user theme file in $XDG_CONFIG_HOME/hotslot/themes/. */
function userTheme(name: string, body: string): string {
  const dir = join(config, 'hotslot', 'themes');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, body);
  return file;
}

const env = () => ({ XDG_CONFIG_HOME: config });
const load = (name: string | undefined, extra: NodeJS.ProcessEnv = {}) => loadTheme(name, { ...env(), ...extra });

describe('loading themes', () => {
  it('loads every built-in theme with every style', () => {
    expect([...listThemes(themeDirs(env())).keys()]).toEqual(BUILT_IN);
    for (const name of BUILT_IN) {
      const t = load(name);
      expect(t.name).toBe(name);
      for (const s of STYLE_NAMES) expect(t.styles[s]).toBeDefined();
      expect(t.symbols.spinner.length).toBeGreaterThan(1);
    }
  });

  it('names the themes that exist when asked for one that does not', () => {
    expect(() => load('nope')).toThrow(new ThemeError('unknown theme "nope"; themes: default, high-contrast, monochrome, solarized-dark'));
    // A name is a name, not a path.
    expect(() => load('../default')).toThrow(/unknown theme/);
  });

  it("takes the user's themes from XDG_CONFIG_HOME, over the built-in ones, with default's styles for what they leave out", () => {
    userTheme('mine', JSON.stringify({ styles: { ok: { fg: 'bright-green', bold: true } } }));
    userTheme('default', JSON.stringify({ styles: { header: { fg: 'white', bg: 'magenta' } } }));
    const mine = load('mine');
    expect(mine.styles.ok).toEqual({ fg: 'bright-green', bold: true });
    expect(mine.styles.error).toEqual(load('default').styles.error);
    expect(load('default').styles.header).toEqual({ fg: 'white', bg: 'magenta' });
    expect([...listThemes(themeDirs(env())).keys()]).toContain('mine');
  });

  it('rejects a malformed theme file naming the file and the field', () => {
    const bad = userTheme('bad', JSON.stringify({ styles: { ok: { fg: 'chartreuse' } } }));
    expect(() => load('bad')).toThrow(`theme file ${bad}: styles.ok.fg: expected a colour`);
    const typo = userTheme('typo', JSON.stringify({ styles: { eror: { fg: 'red' } } }));
    expect(() => load('typo')).toThrow(`theme file ${typo}: styles.eror: unknown field`);
    const wide = userTheme('wide', JSON.stringify({ symbols: { assignable: '✅' } }));
    expect(() => load('wide')).toThrow(`theme file ${wide}: symbols.assignable: expected one single-width character`);
    const json = userTheme('json', '{ "styles": ');
    expect(() => load('json')).toThrow(new RegExp(`^theme file ${json}: not valid JSON`));
    const bold = userTheme('bold', JSON.stringify({ styles: { ok: { bold: 'yes' } } }));
    expect(() => load('bold')).toThrow(`theme file ${bold}: styles.ok.bold:`);
  });

  it('uses monochrome when NO_COLOR is set, unless a theme is named', () => {
    expect(load(undefined, { NO_COLOR: '1' }).name).toBe('monochrome');
    expect(load(undefined, { NO_COLOR: '' }).name).toBe('default');
    expect(load(undefined).name).toBe('default');
    expect(load('solarized-dark', { NO_COLOR: '1' }).name).toBe('solarized-dark');
  });
});

describe('readable at 8 and 16 colours', () => {
  /** The colours a style ends up with on a terminal of `n` colours, over the theme's base. */
  function onTerminal(t: Theme, s: Style, n: number): { fg: number; bg: number; attrs: boolean } {
    const base = t.styles.base;
    return {
      fg: reduceColour(s.fg ?? base.fg ?? 'default', n),
      bg: reduceColour(s.bg ?? base.bg ?? 'default', n),
      attrs: Boolean(s.bold || s.underline || s.inverse),
    };
  }

  for (const name of BUILT_IN) {
    for (const colours of [8, 16]) {
      it(`${name} at ${colours} colours: no text the colour of its background, and every meaning stands out`, () => {
        const t = themeForColours(loadTheme(name, {}), colours);
        for (const s of STYLE_NAMES) {
          const c = onTerminal(t, t.styles[s], colours);
          if (c.fg !== -1 || c.bg !== -1) expect(c.fg, `${name} ${s}`).not.toBe(c.bg);
        }
        const base = onTerminal(t, t.styles.base, colours);
        for (const s of ['selected', 'header', 'bar', 'buttonFocus', 'error', 'pending', 'accent'] as const) {
          const c = onTerminal(t, t.styles[s], colours);
          expect(c.fg !== base.fg || c.bg !== base.bg || c.attrs, `${name} ${s} looks like plain text`).toBe(true);
        }
        const selected = onTerminal(t, t.styles.selected, colours);
        expect(selected.bg !== base.bg || t.styles.selected.inverse, `${name}: the selected row must have its own background`).toBe(true);
        const looks = (s: Style) => {
          const c = onTerminal(t, s, colours);
          return `${c.fg}/${c.bg}/${s.bold ? 'b' : ''}${s.underline ? 'u' : ''}${s.inverse ? 'i' : ''}`;
        };
        const meanings = (['ok', 'pending', 'error', 'warn'] as const).map((m) => looks(t.styles[m]));
        expect(new Set(meanings).size, `${name}: ok, pending, error and warn must look different`).toBe(4);
      });
    }
  }
});

describe('terminals', () => {
  it("names xterm-256color for Debian's *-256color and *-direct terminals that blessed cannot read", () => {
    expect(terminalName('tmux-256color')).toBe('xterm-256color');
    expect(terminalName('screen-256color')).toBe('xterm-256color');
    expect(terminalName('xterm-direct')).toBe('xterm-256color');
    expect(terminalName('linux')).toBe('linux');
    expect(terminalName(undefined)).toBe('xterm');
  });

  it('gets 256 colours on tmux-256color and writes nothing to stderr', () => {
    const write = process.stderr.write.bind(process.stderr);
    let written = '';
    process.stderr.write = ((chunk: string) => {
      written += chunk;
      return true;
    }) as typeof process.stderr.write;
    try {
      h = openDashboard(labState(), { terminal: 'screen-256color' });
      expect((h.dash.screen as unknown as { tput: { colors: number } }).tput.colors).toBe(256);
    } finally {
      process.stderr.write = write;
    }
    expect(written).toBe('');
  });

  it('falls back from a true-colour theme to its basic one on an 8-colour terminal', () => {
    h = openDashboard(labState(), { theme: loadTheme('solarized-dark', {}), terminal: 'xterm' });
    const lines = (h.dash.screen as unknown as { lines: Array<Array<[number, string]>> }).lines;
    // high-contrast's header: black on yellow.
    expect(lines[0][1][0] & 0x1ff).toBe(3);
    expect((lines[0][1][0] >> 9) & 0x1ff).toBe(0);
  });

  it('draws no colour at all with the monochrome theme', () => {
    h = openDashboard(labState(), { theme: loadTheme('monochrome', {}) });
    const lines = (h.dash.screen as unknown as { lines: Array<Array<[number, string]>> }).lines;
    for (const row of lines)
      for (const [attr] of row) {
        // blessed's cell attribute: flags << 18 | fg << 9 | bg; 0x1ff is the terminal's default.
        expect((attr >> 9) & 0x1ff).toBe(0x1ff);
        expect(attr & 0x1ff).toBe(0x1ff);
      }
  });
});
