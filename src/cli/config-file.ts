/**
 * The configuration file (`--config FILE`, else `$XDG_CONFIG_HOME/hotslot/config.json` when it
 * exists): one JSON object whose keys are all optional.
 *
 *   protect       BDFs the host keeps, whatever else is true.
 *   allow         allow-list mode: when present, only these BDFs may be touched.
 *   reservations  BDF -> guest name: the device may only go to that guest.
 *   guests        guest name -> QMP socket (a path, relative to the file's folder, or tcp:HOST:PORT).
 *
 * Unknown keys are errors: a misspelt `allow` must not silently turn the allow-list off.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { z as Zod } from 'zod';
import { checkGuestName, GuestSpecError, type GuestSpec } from '../guests/guest-specs.js';
import { BdfError, normalizeBdf } from '../pci/bdf.js';
import { parseTcpEndpoint, unixEndpoint } from '../qmp/endpoint.js';
import type { GlobalOptions } from './context.js';
import { usageError } from './exit-codes.js';

export interface HotslotConfig {
  /** The file it was read from; null when there is none. */
  file: string | null;
  protect: string[];
  /** Null: no allow-list, so any device that no other rule refuses may be touched. */
  allow: string[] | null;
  /** BDF -> the one guest it may go to. */
  reservations: Map<string, string>;
  guests: GuestSpec[];
}

/** A configuration file that cannot be used, naming the file and the field. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly field: string | null,
    detail: string,
  ) {
    super(`${file}: ${field ? `${field}: ` : ''}${detail}`);
    this.name = 'ConfigError';
  }
}

/**
 * The schema, built on first use: zod is seventy-odd modules with its locales, and most runs read
 * no configuration file, so it loads only when one is read.
 */
function buildSchema(z: typeof Zod) {
  const bdf = z.string({ error: 'expected a PCI address string such as "0000:03:00.0"' }).transform((s, ctx) => {
    try {
      return normalizeBdf(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof BdfError ? err.message : String(err) });
      return z.NEVER;
    }
  });

  const guestName = z.string({ error: 'expected a guest name string' }).transform((s, ctx) => {
    try {
      return checkGuestName(s, 'guest name');
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof GuestSpecError ? err.message.replace(/^guest name: /, '') : String(err) });
      return z.NEVER;
    }
  });

  const bdfList = z.array(bdf, { error: 'expected a list of PCI addresses, e.g. ["0000:03:00.0"]' });

  return z.strictObject(
    {
      protect: bdfList.optional(),
      allow: bdfList.optional(),
      // Keys are checked below, before normalising: `03:00.0` and `0000:03:00.0` are one device.
      reservations: z.record(z.string(), guestName, { error: 'expected an object of PCI address -> guest name, e.g. {"0000:03:00.0": "vm1"}' }).optional(),
      guests: z
        .record(guestName, z.string({ error: 'expected a QMP socket path or tcp:HOST:PORT' }).min(1, 'expected a QMP socket path or tcp:HOST:PORT'), {
          error: 'expected an object of guest name -> QMP socket, e.g. {"vm1": "/run/vm1.qmp"}',
        })
        .optional(),
    },
    { error: 'expected a JSON object with any of: protect, allow, reservations, guests' },
  );
}

let schema: ReturnType<typeof buildSchema> | null = null;

/**
 * Builds the schema from zod's ES build before a command that will read a configuration file
 * runs, so that the file is checked with the same zod the rest of hotslot imports (its QMP
 * greeting, recordings and simulator) instead of loading the CommonJS build beside it.
 */
export async function prepareConfigSchema(g: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (schema || (g.config === undefined && !existsSync(defaultConfigFile(env)))) return;
  const { z } = await import('zod');
  schema ??= buildSchema(z);
}

function configSchema(): ReturnType<typeof buildSchema> {
  // Outside the CLI (a library caller, a test) nothing prepared it: zod loads here, synchronously.
  return (schema ??= buildSchema((createRequire(import.meta.url)('zod') as { z: typeof Zod }).z));
}

/** `allow[1]`, `reservations.0000:03:00.0`. */
function fieldOf(path: readonly PropertyKey[]): string | null {
  if (path.length === 0) return null;
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('');
}

export function parseConfig(text: string, file: string): HotslotConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, null, `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const result = configSchema().safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    if (issue.code === 'unrecognized_keys') {
      throw new ConfigError(file, fieldOf([...issue.path, issue.keys[0]]), 'unknown field (known: protect, allow, reservations, guests)');
    }
    // A bad record key (a guest name) has its own message one level down.
    const detail = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    throw new ConfigError(file, fieldOf(issue.path), detail);
  }
  const data = result.data;
  const reservations = new Map<string, string>();
  for (const [key, guest] of Object.entries(data.reservations ?? {})) {
    let device: string;
    try {
      device = normalizeBdf(key);
    } catch (err) {
      throw new ConfigError(file, `reservations.${key}`, err instanceof BdfError ? err.message : String(err));
    }
    const earlier = reservations.get(device);
    if (earlier !== undefined && earlier !== guest) throw new ConfigError(file, `reservations.${device}`, `reserved twice, for ${earlier} and for ${guest}`);
    reservations.set(device, guest);
  }
  const guests: GuestSpec[] = Object.entries(data.guests ?? {}).map(([name, where]) => {
    const source = `config ${file}`;
    if (where.startsWith('tcp:')) {
      const endpoint = parseTcpEndpoint(where.slice(4));
      if (!endpoint) throw new ConfigError(file, `guests.${name}`, `expected tcp:HOST:PORT, got ${JSON.stringify(where)}`);
      return { name, endpoint, source };
    }
    return { name, endpoint: unixEndpoint(resolve(dirname(file), where)), source };
  });
  return { file, protect: data.protect ?? [], allow: data.allow ?? null, reservations, guests };
}

/** `$XDG_CONFIG_HOME/hotslot/config.json`, beside the dashboard's user themes (src/tui/theme.ts). */
export function defaultConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(base, 'hotslot', 'config.json');
}

/** The named file (which must exist), else the default one if it exists, else an empty configuration. */
export function readConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): HotslotConfig {
  const path = file ?? defaultConfigFile(env);
  if (file === undefined && !existsSync(path)) return { file: null, protect: [], allow: null, reservations: new Map(), guests: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(path, null, code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? String(err)})`);
  }
  return parseConfig(text, path);
}

/** Read once per command: host sources, guest specs and the bare-hotslot choice all ask for it. */
const readFor = new WeakMap<GlobalOptions, HotslotConfig>();

/** The configuration the global options name; a bad file is bad usage (exit 2) before anything is touched. */
export function configOf(g: GlobalOptions): HotslotConfig {
  const known = readFor.get(g);
  if (known) return known;
  try {
    const config = readConfig(g.config);
    readFor.set(g, config);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) throw usageError(`bad config: ${err.message}`);
    throw err;
  }
}

/** Some guest is named, on the command line or in the configuration. */
export function anyGuestConfigured(g: GlobalOptions): boolean {
  return g.guest.length > 0 || g.guestDir !== undefined || configOf(g).guests.length > 0;
}
