import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { systemClock } from '../core/clock.js';
import type { HotslotEvent } from '../core/events.js';
import { connectGuests, guestsInDir, GuestSpecError, parseGuestOption, mergeGuestSpecs, type Guest, type GuestSpec } from '../guests/index.js';
import { scanHost } from '../host/inventory.js';
import { HotplugInputError, RefusedError, StuckError } from '../hotplug/errors.js';
import { acquireHostLock, HostLockError, type HostLock } from '../hotplug/host-lock.js';
import { Hotplug, type OperationResult, type Timeouts } from '../hotplug/hotplug.js';
import { Journal } from '../hotplug/journal.js';
import type { HotplugGuest } from '../hotplug/preflight.js';
import { RecordingQmp, type RecordedQmp } from '../hotplug/qmp-sender.js';
import { openKernel, type DryRunKernelPort, type KernelPort, KernelInputError } from '../kernel/index.js';
import { unixEndpoint } from '../qmp/index.js';
import { hostSources } from './commands/list.js';
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
    const named = new Set([...given, ...inDir].map((s) => s.name));
    const fromJournal = extraSockets
      .filter((s) => !named.has(s.name))
      .map((s) => ({ name: s.name, endpoint: unixEndpoint(s.socket), source: 'the journal' }));
    return mergeGuestSpecs(given, inDir, dedupe(fromJournal));
  } catch (err) {
    if (err instanceof GuestSpecError) throw usageError(err.message);
    throw err;
  }
}

function dedupe(specs: GuestSpec[]): GuestSpec[] {
  const seen = new Set<string>();
  return specs.filter((s) => (seen.has(s.name) ? false : (seen.add(s.name), true)));
}

export interface HotplugSession {
  hotplug: Hotplug;
  kernel: KernelPort;
  journal: Journal;
  guests: Guest[];
  unreachable: { name: string; error: string | null }[];
  events: HotslotEvent[];
  recorded: RecordedQmp[];
  dryRun: boolean;
  close(): Promise<void>;
}

export async function openHotplugSession(
  g: GlobalOptions,
  opts: { dryRun: boolean; journalGuests?: boolean; onEvent?: (e: HotslotEvent) => void; timeouts?: Partial<Timeouts> },
): Promise<HotplugSession> {
  const stateDir = stateDirOf(g);
  const journal = new Journal(stateDir);
  const sources = hostSources(g);
  const kernel = opts.dryRun ? openKernel({ kind: 'dry-run', sysfsRoot: g.sysfsRoot }) : openKernel({ kind: g.kernel, sysfsRoot: g.sysfsRoot });
  let extra: { name: string; socket: string }[] = [];
  if (opts.journalGuests) {
    extra = journal.open().flatMap(({ intent }) => [
      ...(intent.guest && intent.guestSocket ? [{ name: intent.guest, socket: intent.guestSocket }] : []),
      ...(intent.fromGuest && intent.fromGuestSocket ? [{ name: intent.fromGuest, socket: intent.fromGuestSocket }] : []),
    ]);
  }
  const specs = guestSpecs(g, extra);
  let lock: HostLock | null = null;
  if (!opts.dryRun) {
    try {
      lock = acquireHostLock(stateDir);
    } catch (err) {
      if (err instanceof HostLockError) throw new CliError(err.message, ExitCode.refused);
      throw err;
    }
  }
  const { guests, unreachable } = await connectGuests(specs, { timeoutMs: 5_000 });
  const recorded: RecordedQmp[] = [];
  const events: HotslotEvent[] = [];
  const hotplugGuests: HotplugGuest[] = guests.map((guest) => ({
    name: guest.name,
    socket: guest.socket,
    qmp: opts.dryRun ? new RecordingQmp(guest.name, guest.client, (e) => recorded.push({ ...e, ...{ afterWrite: (kernel as DryRunKernelPort).describeWrites().length } })) : guest.client,
  }));
  const hotplug = new Hotplug({
    kernel,
    journal,
    clock: systemClock,
    emit: (e) => {
      events.push(e);
      opts.onEvent?.(e);
    },
    scan: () => scanHost(sources),
    guests: hotplugGuests,
    procRoot: g.procRoot,
    dryRun: opts.dryRun,
    ...(opts.timeouts ? { timeouts: { ...opts.timeouts, resendAfterMs: Math.min(5_500, (opts.timeouts.unplugMs ?? 30_000) / 2) } } : {}),
  });
  return {
    hotplug,
    kernel,
    journal,
    guests,
    unreachable: unreachable.map((u) => ({ name: u.name, error: u.error })),
    events,
    recorded,
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
  if (err instanceof RefusedError) return new CliError(err.message, ExitCode.refused);
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
