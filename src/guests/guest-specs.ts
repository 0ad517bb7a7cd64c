import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseTcpEndpoint, unixEndpoint, type QmpEndpoint } from '../qmp/endpoint.js';

/** A guest as the operator names it: a name and the QMP endpoint of its QEMU. */
export interface GuestSpec {
  name: string;
  endpoint: QmpEndpoint;
  /** Where the operator said so, for error messages. */
  source: string;
  /** Named after its socket file only: QEMU's own `-name`, when it has one, names it better. */
  nameFromQemu?: boolean;
}

export class GuestSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuestSpecError';
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkGuestName(name: string, source: string): string {
  if (!NAME.test(name)) throw new GuestSpecError(`${source}: guest name ${JSON.stringify(name)} must be 1-64 letters, digits, '.', '_' or '-'`);
  return name;
}

/** `vm1=/run/vm1.qmp` or `vm1=tcp:127.0.0.1:4444`. */
export function parseGuestOption(text: string): GuestSpec {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw new GuestSpecError(`--guest ${JSON.stringify(text)}: expected NAME=SOCKET (e.g. vm1=/run/vm1.qmp)`);
  const name = checkGuestName(text.slice(0, eq), `--guest ${text}`);
  const where = text.slice(eq + 1);
  const endpoint = where.startsWith('tcp:') ? parseTcpEndpoint(where.slice(4)) : unixEndpoint(where);
  if (!endpoint) throw new GuestSpecError(`--guest ${JSON.stringify(text)}: expected tcp:HOST:PORT after tcp:`);
  return { name, endpoint, source: `--guest ${text}` };
}

/** Every unix socket in DIR is a guest, named after the file without `.qmp`/`.sock`. */
export function guestsInDir(dir: string): GuestSpec[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (err) {
    throw new GuestSpecError(`--guest-dir ${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (err as Error).message}`);
  }
  const specs: GuestSpec[] = [];
  for (const entry of entries) {
    const path = join(dir, entry);
    let isSocket = false;
    try {
      isSocket = statSync(path).isSocket();
    } catch {
      continue;
    }
    if (!isSocket) continue;
    const name = basename(entry).replace(/\.(qmp|sock|socket)$/, '');
    if (!NAME.test(name)) continue;
    specs.push({ name, endpoint: unixEndpoint(path), source: `--guest-dir ${dir}`, nameFromQemu: true });
  }
  return specs;
}

/** Guests from all sources; a name given twice is an error naming both places. */
export function mergeGuestSpecs(...lists: GuestSpec[][]): GuestSpec[] {
  const byName = new Map<string, GuestSpec>();
  for (const spec of lists.flat()) {
    const seen = byName.get(spec.name);
    if (seen) throw new GuestSpecError(`guest ${spec.name} is named twice: by ${seen.source} and by ${spec.source}`);
    byName.set(spec.name, spec);
  }
  return [...byName.values()];
}
