/**
 * What lspci says about the same tree at the moment of the snapshot, kept beside it in `oracle/`
 * (the names of the lab corpus), so that a later `lspci -O sysfs.path=X/sys/bus/pci` on the copy,
 * and hotslot's own readings, can be compared with it. Without lspci there is no oracle.
 */
import { spawnSync } from 'node:child_process';

export interface LspciOutput {
  /** `lspci-D-nn-k.txt` and the like. */
  file: string;
  args: string[];
  text: string;
}

const VIEWS: { file: string; args: string[] }[] = [
  { file: 'lspci-D-nn-k.txt', args: ['-D', '-nn', '-k'] },
  { file: 'lspci-D-vvv.txt', args: ['-D', '-vvv'] },
  { file: 'lspci-D-xxxx.txt', args: ['-D', '-xxxx'] },
];

/** lspci's options for a sysfs root: none for the live /sys, else its sysfs access method on that tree. */
function rootArgs(sysfsRoot: string): string[] {
  return sysfsRoot === '/sys' ? [] : ['-A', 'linux-sysfs', '-O', `sysfs.path=${sysfsRoot}/bus/pci`];
}

/** One lspci run: its standard output, or null when lspci is not installed. */
export function runLspci(sysfsRoot: string, args: string[]): { text: string; problem: string | null } | null {
  const r = spawnSync('lspci', [...rootArgs(sysfsRoot), ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') return null;
  const cmd = `lspci ${args.join(' ')}`;
  if (r.error) return { text: r.stdout ?? '', problem: `${cmd}: ${r.error.message}` };
  const firstErr = (r.stderr ?? '').split('\n')[0];
  if (r.status !== 0) return { text: r.stdout, problem: `${cmd} exited ${r.status ?? r.signal}${firstErr ? `: ${firstErr}` : ''}` };
  return { text: r.stdout, problem: null };
}

export interface LspciOracle {
  outputs: LspciOutput[];
  problems: string[];
}

/** The three views, or null when lspci is not installed. */
export function lspciOracle(sysfsRoot: string): LspciOracle | null {
  const outputs: LspciOutput[] = [];
  const problems: string[] = [];
  for (const v of VIEWS) {
    const r = runLspci(sysfsRoot, v.args);
    if (r === null) return null;
    outputs.push({ file: v.file, args: v.args, text: r.text });
    if (r.problem) problems.push(r.problem);
  }
  return { outputs, problems };
}

/** Whether `lspci -D -nn -k` still says what the oracle recorded (drivers bound or devices added meanwhile). */
export function lspciUnchanged(sysfsRoot: string, oracle: LspciOracle): boolean {
  const now = runLspci(sysfsRoot, VIEWS[0].args);
  return now !== null && now.text === oracle.outputs[0].text;
}
