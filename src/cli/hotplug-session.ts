import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { systemClock } from '../core/clock.js';
import { connectGuests, guestsInDir, GuestSpecError, parseGuestOption, mergeGuestSpecs, type Guest, type GuestSpec } from '../guests/index.js';
import { HotplugInputError, StuckError } from '../hotplug/errors.js';
import { acquireHostLock, HostLockError, type HostLock } from '../hotplug/host-lock.js';
import { Hotplug, type OperationResult, type Timeouts } from '../hotplug/hotplug.js';
import { Journal } from '../hotplug/journal.js';
import type { HotplugGuest } from '../hotplug/preflight.js';
import { RecordingQmp, type RecordedQmp } from '../hotplug/qmp-sender.js';
import { openKernel, type KernelPort, type SysfsWrite, KernelInputError } from '../kernel/index.js';
import { unixEndpoint } from '../qmp/index.js';
import { hostSources } from './commands/list.js';
import { configOf } from './config-file.js';
import type { GlobalOptions } from './context.js';
import { CliError, ExitCode, usageError, type ExitCodeValue } from './exit-codes.js';

export function stateDirOf(g: GlobalOptions): string {
  if (g.stateDir) return g.stateDir;
  if (process.env.HOTSLOT_STATE_DIR) return process.env.HOTSLOT_STATE_DIR;
  if (process.getuid?.() === 0) return '/var/lib/hotslot';
  return join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'hotslot');
}

export { bdfArg } from './args.js';

export function guestSpecs(g: GlobalOptions, extraSockets: { name: string; socket: string }[] = []): GuestSpec[] {
  try {
    const given = g.guest.map(parseGuestOption);
    const inDir = g.guestDir ? guestsInDir(g.guestDir) : [];
    const fromConfig = configOf(g).guests;
    const named = new Set([...given, ...inDir, ...fromConfig].map((s) => s.name));
    const fromJournal = extraSockets
      .filter((s) => !named.has(s.name))
      .map((s) => ({ name: s.name, endpoint: unixEndpoint(s.socket), source: 'the journal' }));
    return mergeGuestSpecs(given, inDir, fromConfig, dedupe(fromJournal));
  } catch (err) {
    if (err instanceof GuestSpecError) throw usageError(err.message);
    throw err;
  }
}

function dedupe(specs: GuestSpec[]): GuestSpec[] {
  const seen = new Set<string>();
  return specs.filter((s) => (seen.has(s.name) ? false : (seen.add(s.name), true)));
}

/** The guests (and their QMP sockets) that the journal's unfinished operations name. */
export function journalGuestSockets(journal: Journal): { name: string; socket: string }[] {
  return journal.open().flatMap(({ intent }) => [
    ...(intent.guest && intent.guestSocket ? [{ name: intent.guest, socket: intent.guestSocket }] : []),
    ...(intent.fromGuest && intent.fromGuestSocket ? [{ name: intent.fromGuest, socket: intent.fromGuestSocket }] : []),
  ]);
}

export interface HotplugSession {
  hotplug: Hotplug;
  kernel: KernelPort;
  journal: Journal;
  guests: Guest[];
  recorded: RecordedQmp[];
  /** In a dry run, every sysfs write it would have made, in order; otherwise none. */
  writes(): SysfsWrite[];
  dryRun: boolean;
  close(): Promise<void>;
}

export async function openHotplugSession(
  g: GlobalOptions,
  opts: { dryRun: boolean; journalGuests?: boolean; timeouts?: Partial<Timeouts> },
): Promise<HotplugSession> {
  const stateDir = stateDirOf(g);
  const journal = new Journal(stateDir);
  const sources = hostSources(g);
  const dryKernel = opts.dryRun ? openKernel({ kind: 'dry-run', sysfsRoot: g.sysfsRoot }) : null;
  const kernel = dryKernel ?? openKernel({ kind: g.kernel, sysfsRoot: g.sysfsRoot });
  const writes = (): SysfsWrite[] => dryKernel?.describeWrites() ?? [];
  const specs = guestSpecs(g, opts.journalGuests ? journalGuestSockets(journal) : []);
  let lock: HostLock | null = null;
  if (!opts.dryRun) {
    try {
      lock = acquireHostLock(stateDir);
    } catch (err) {
      if (err instanceof HostLockError) throw new CliError(err.message, ExitCode.refused);
      throw err;
    }
  }
  const { guests } = await connectGuests(specs, { timeoutMs: 5_000 });
  const recorded: RecordedQmp[] = [];
  const hotplugGuests: HotplugGuest[] = guests.map((guest) => ({
    name: guest.name,
    socket: guest.socket,
    qmp: opts.dryRun ? new RecordingQmp(guest.name, guest.client, (e) => recorded.push({ ...e, afterWrite: writes().length })) : guest.client,
  }));
  const hotplug = new Hotplug({
    kernel,
    journal,
    clock: systemClock,
    emit: () => undefined,
    host: sources,
    guests: hotplugGuests,
    dryRun: opts.dryRun,
    ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
  });
  return {
    hotplug,
    kernel,
    journal,
    guests,
    recorded,
    writes,
    dryRun: opts.dryRun,
    async close() {
      await Promise.allSettled(guests.map((x) => x.close()));
      lock?.release();
    },
  };
}

export const exitCodeOf = (r: OperationResult): ExitCodeValue =>
  r.outcome === 'done' ? ExitCode.ok : r.outcome === 'refused' ? ExitCode.refused : r.outcome === 'stuck' ? ExitCode.stuck : ExitCode.failed;

/** Errors the hotplug layer raises before touching anything, as CLI errors with their statuses. */
export function asCliError(err: unknown): unknown {
  if (err instanceof HotplugInputError || err instanceof KernelInputError) return usageError(err.message);
  if (err instanceof StuckError) return new CliError(err.message, ExitCode.stuck);
  return err;
}

/** Asks on the terminal; without one, --yes is required so that a script never hangs. */
export async function confirm(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) throw usageError(`${question} needs confirmation: pass --yes (no terminal to ask on)`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw new CliError('not confirmed; nothing changed', ExitCode.usage);
  } finally {
    rl.close();
  }
}
