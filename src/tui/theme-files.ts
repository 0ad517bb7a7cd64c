/**
 * Where theme files are and which there are: the package's `themes/` and the user's
 * `$XDG_CONFIG_HOME/hotslot/themes/`. Apart from the loader (theme.ts) so that listing the themes,
 * which `hotslot demo --help` does, does not load zod.
 */
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ThemeDirs {
  builtin: string;
  user: string | null;
}

/** The package's themes and the user's, from `XDG_CONFIG_HOME` (or `~/.config`). */
export function themeDirs(env: NodeJS.ProcessEnv = process.env): ThemeDirs {
  const config = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return { builtin: fileURLToPath(new URL('../../themes/', import.meta.url)), user: join(config, 'hotslot', 'themes') };
}

const THEME_FILE = /^([A-Za-z0-9][A-Za-z0-9._-]*)\.json$/;

function themeFilesIn(dir: string | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!dir || !existsSync(dir)) return out;
  for (const entry of readdirSync(dir).sort()) {
    const m = THEME_FILE.exec(entry);
    if (m) out.set(m[1], join(dir, entry));
  }
  return out;
}

/** Theme names and their files; a user's theme hides a built-in one of the same name. */
export function listThemes(dirs: ThemeDirs = themeDirs()): Map<string, string> {
  const all = new Map([...themeFilesIn(dirs.builtin), ...themeFilesIn(dirs.user)]);
  return new Map([...all.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
