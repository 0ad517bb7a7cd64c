/**
 * What the simulated kernel remembers between commands, kept in the tree itself
 * (`SYSFS_ROOT/.hotslot-sim/state.json`) so that separate processes see each other's effects.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const SIM_DIR = '.hotslot-sim';

const faultRule = z.object({
  op: z.string().optional(),
  bdf: z.string().optional(),
  /** The file's base name, e.g. `reset_method`, to fail one write of a multi-write operation. */
  file: z.string().optional(),
  errno: z.string(),
  /** How many matching writes fail (default 1). */
  times: z.number().int().positive(),
});
export type FaultRule = z.infer<typeof faultRule>;

const stashEntry = z.object({
  driver: z.string(),
  /** Directories the driver owned (msi_irqs, net, nvme, ...), moved aside while it is away. */
  children: z.array(z.string()),
  /** Links elsewhere in the tree that pointed into them (class/net/eth0, block/...). */
  links: z.array(z.object({ path: z.string(), target: z.string() })),
});
export type StashEntry = z.infer<typeof stashEntry>;

const simState = z.object({
  version: z.literal(1),
  /** `vendor:device` -> the driver whose id table matches it (who binds without an override). */
  natives: z.record(z.string(), z.string()),
  /** Each function's `reset_method` as the kernel set it at enumeration (what `default` restores). */
  resetDefaults: z.record(z.string(), z.array(z.string())),
  pendingBinds: z.array(z.object({ bdf: z.string(), driver: z.string(), dueAt: z.number() })),
  bindDelayMs: z.object({ default: z.number(), byDriver: z.record(z.string(), z.number()) }),
  faults: z.array(faultRule),
  stash: z.record(z.string(), stashEntry),
  /** The resets carried out, newest last (what a test or `--json` can check). */
  resets: z.array(z.object({ bdf: z.string(), method: z.string(), at: z.number() })),
  /** PF -> driver -> the `sriov_totalvfs` that driver sets (igb says 7 of the hardware's 8). */
  driverTotalVfs: z.record(z.string(), z.record(z.string(), z.number())).default({}),
  /** Probes that failed, as dmesg would show them. */
  probeFailures: z.array(z.object({ bdf: z.string(), driver: z.string(), errno: z.string(), at: z.number() })),
});
export type SimState = z.infer<typeof simState>;

export function emptyState(): SimState {
  return {
    version: 1,
    natives: {},
    resetDefaults: {},
    pendingBinds: [],
    bindDelayMs: { default: 0, byDriver: {} },
    faults: [],
    stash: {},
    resets: [],
    driverTotalVfs: {},
    probeFailures: [],
  };
}

export function statePath(sysfsRoot: string): string {
  return join(sysfsRoot, SIM_DIR, 'state.json');
}

/**
 * Present while some bind is still in flight (`pendingBinds` is not empty): a read only needs the
 * state when there is a slow bind to finish, and a stat is cheaper than reading the state.
 */
function pendingMarker(sysfsRoot: string): string {
  return join(sysfsRoot, SIM_DIR, 'binds-pending');
}

export function hasPendingBinds(sysfsRoot: string): boolean {
  return existsSync(pendingMarker(sysfsRoot));
}

export function hasState(sysfsRoot: string): boolean {
  return existsSync(statePath(sysfsRoot));
}

/**
 * The last state read or written in this process, per file, with the text it came from. The
 * simulator reads its state before every sysfs read; parsing and validating it each time cost more
 * than reading the file. (The text, not the file's times, says whether it changed: another process
 * can save twice within one tick of the file system's clock.) Whoever changes the returned object
 * must save it.
 */
const cache = new Map<string, { text: string; state: SimState }>();

export function loadState(sysfsRoot: string): SimState {
  const file = statePath(sysfsRoot);
  let text: string;
  let raw: unknown;
  try {
    text = readFileSync(file, 'utf8');
    const cached = cache.get(file);
    if (cached?.text === text) return cached.state;
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`simulated kernel: cannot read its state ${file}: ${(err as Error).message}`);
  }
  const parsed = simState.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`simulated kernel: its state ${file} is not valid: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
  }
  cache.set(file, { text, state: parsed.data });
  return parsed.data;
}

/** Written whole and renamed into place, so a reader never sees half a state. */
export function saveState(sysfsRoot: string, state: SimState): void {
  const file = statePath(sysfsRoot);
  const cached = cache.get(file);
  const text = JSON.stringify(state) + '\n';
  // Most writes change only the tree; the file on disk was just read as `cached.text`.
  if (cached?.state === state && cached.text === text) return;
  if (!cached) mkdirSync(join(sysfsRoot, SIM_DIR), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  // The marker goes up before a pending bind is saved and comes down after the last one is gone,
  // so a reader that sees no marker has no bind to finish.
  const pending = state.pendingBinds.length > 0;
  if (pending) writeFileSync(pendingMarker(sysfsRoot), '');
  renameSync(tmp, file);
  if (!pending) rmSync(pendingMarker(sysfsRoot), { force: true });
  cache.set(file, { text, state });
}

/** The newest resets and probe failures kept: enough to check an operation's, and a state that stays small (it is written on every change). */
const KEEP = 32;

export function trimLogs(state: SimState): void {
  if (state.resets.length > KEEP) state.resets.splice(0, state.resets.length - KEEP);
  if (state.probeFailures.length > KEEP) state.probeFailures.splice(0, state.probeFailures.length - KEEP);
}
