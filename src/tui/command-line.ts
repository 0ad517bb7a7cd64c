/**
 * The `:` command line: `attach 0000:03:00.0 vm1`, `detach 03:00.0`, `q`. Parsing is pure and
 * checks only the syntax; whether the device and the guest exist is the action's business.
 */
import { normalizeBdf } from '../pci/bdf.js';

export type Command =
  | { kind: 'attach'; bdf: string; guest: string }
  | { kind: 'move'; bdf: string; guest: string }
  | { kind: 'detach' | 'return' | 'retry' | 'force-return'; bdf: string }
  | { kind: 'recover' }
  | { kind: 'quit'; force: boolean }
  | { kind: 'help' }
  | { kind: 'filter'; text: string };

export type Parsed = { ok: true; command: Command } | { ok: false; error: string };

/** `03:00.0` or `0000:03:00.0` as `0000:03:00.0`; null if it is not a BDF. */
export function commandBdf(text: string): string | null {
  try {
    return normalizeBdf(text);
  } catch {
    return null;
  }
}

const USAGE: Record<string, string> = {
  attach: 'attach BDF GUEST',
  move: 'move BDF GUEST',
  detach: 'detach BDF',
  return: 'return BDF',
  retry: 'retry BDF',
  'force-return': 'force-return BDF',
  recover: 'recover',
  filter: 'filter TEXT',
  help: 'help',
  q: 'q',
};

export const COMMAND_NAMES = Object.keys(USAGE);

export function parseCommand(line: string): Parsed {
  const words = line.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return { ok: false, error: 'empty command' };
  const [name, ...args] = words;
  const usage = (why: string): Parsed => ({ ok: false, error: `${why}; usage: ${USAGE[name]}` });
  const bdfArg = (): string | null => (args[0] === undefined ? null : commandBdf(args[0]));

  switch (name) {
    case 'q':
    case 'quit':
    case 'q!':
    case 'quit!':
      if (args.length > 0) return { ok: false, error: `${name} takes no arguments` };
      return { ok: true, command: { kind: 'quit', force: name.endsWith('!') } };
    case 'help':
      return { ok: true, command: { kind: 'help' } };
    case 'recover':
      if (args.length > 0) return usage('recover takes no arguments');
      return { ok: true, command: { kind: 'recover' } };
    case 'filter':
      return { ok: true, command: { kind: 'filter', text: args.join(' ') } };
    case 'attach':
    case 'move': {
      if (args.length !== 2) return usage(`${name} needs a device and a guest`);
      const bdf = bdfArg();
      if (!bdf) return usage(`"${args[0]}" is not a PCI address (DDDD:BB:DD.F)`);
      return { ok: true, command: { kind: name, bdf, guest: args[1] } };
    }
    case 'detach':
    case 'return':
    case 'retry':
    case 'force-return': {
      if (args.length !== 1) return usage(`${name} needs one device`);
      const bdf = bdfArg();
      if (!bdf) return usage(`"${args[0]}" is not a PCI address (DDDD:BB:DD.F)`);
      return { ok: true, command: { kind: name, bdf } };
    }
    default:
      return { ok: false, error: `unknown command "${name}"; commands: ${COMMAND_NAMES.join(', ')}` };
  }
}
