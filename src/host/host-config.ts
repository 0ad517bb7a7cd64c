/**
 * The parts of the configuration file that the host inventory reads: `protect`, a list of BDFs
 * the host keeps whatever else is true. Other keys belong to other rooms and pass through.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { BdfError, normalizeBdf } from '../pci/bdf.js';

export interface HostConfig {
  protect: string[];
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

const bdfField = z.string().transform((s, ctx) => {
  try {
    return normalizeBdf(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof BdfError ? err.message : String(err) });
    return z.NEVER;
  }
});

const schema = z.looseObject({ protect: z.array(bdfField).optional() });

export function parseHostConfig(text: string, file: string): HostConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, null, `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.path.length > 0 ? issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('') : null;
    throw new ConfigError(file, field, issue.message);
  }
  return { protect: result.data.protect ?? [] };
}

/** No file: nothing protected beyond what the host itself says. */
export function loadHostConfig(file: string | undefined): HostConfig {
  if (file === undefined) return { protect: [] };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(file, null, code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? String(err)})`);
  }
  return parseHostConfig(text, file);
}
