/**
 * Vendor, device and class names from the system's pci.ids (the file lspci reads). The file is
 * read and indexed on the first lookup only; a missing or unreadable file gives null names, never
 * an error, because names are a courtesy and every decision is made on the numbers.
 */
import { readFileSync } from 'node:fs';

/** The two lookups every caller needs; the rest are optional so that a test can fake names in one line. */
export interface PciNames {
  vendor(vendorId: number): string | null;
  device(vendorId: number, deviceId: number): string | null;
  /** Subsystem name (lspci's `Subsystem:` line), when pci.ids lists one. */
  subsystem?(vendorId: number, deviceId: number, subVendorId: number, subDeviceId: number): string | null;
  /** Name of a 24-bit class code as lspci shows it: the subclass (`Ethernet controller`), else the base class. */
  className?(classCode: number): string | null;
  /** Name of the programming interface of a 24-bit class code (`UHCI`), if pci.ids has one. */
  progIfName?(classCode: number): string | null;
  /** The file the names come from, or null when none could be read (known after a lookup). */
  readonly path?: string | null;
}

/** Where distributions put pci.ids, in lspci's order of preference. */
export const DEFAULT_PCI_IDS_PATHS = ['/usr/share/misc/pci.ids', '/usr/share/hwdata/pci.ids', '/usr/share/pci.ids'];

/**
 * A vendor's name and where its lines lie: a run of lines from its own line to the next line that
 * is not indented (a vendor may appear twice; its runs are read in order). Its devices are found
 * on the first device lookup, so that a scan of one vendor's hardware does not pay for the 2,500
 * others in the file.
 */
interface VendorEntry {
  /** Where its first line starts; the name is read from it when first asked for. */
  line: number;
  name: string | null;
  runs: number[];
  /** Device id -> where its line starts (the last line wins, as lspci's later entries do). */
  devices: Map<number, number> | null;
}

/**
 * Where the vendors and classes of a pci.ids text are, found from the lines that are not
 * indented; the lines under a vendor or a class are read when first asked for.
 */
class Index {
  readonly vendors = new Map<number, VendorEntry>();
  /** Start and end offsets of each `C cc  Class` line's run. */
  private readonly classRuns: number[] = [];
  private classMap: Map<string, string> | null = null;
  private readonly subsystemMaps = new Map<number, Map<number, string>>();

  /**
   * `text` is either the file's bytes as latin1 (`utf8` true: names are decoded from UTF-8 when
   * read, so that the 1.3 MB file is one-byte text, read and scanned fast) or a string as is.
   */
  constructor(
    private readonly text: string,
    readonly path: string | null,
    private readonly utf8 = false,
  ) {
    let run: number[] | null = null;
    const visit = (start: number) => {
      // An unindented line ends the run before it, whatever it is.
      run?.push(start);
      run = null;
      if (text.startsWith('C ', start)) {
        this.classRuns.push(start);
        run = this.classRuns;
        return;
      }
      const v = hexAt(text, start, 4);
      if (v < 0) return; // other top-level sections (`X` in some versions): skipped
      let vendor = this.vendors.get(v);
      if (!vendor) {
        vendor = { line: start, name: null, runs: [], devices: null };
        this.vendors.set(v, vendor);
      }
      vendor.runs.push(start);
      run = vendor.runs;
    };
    // The regular expression skips the 35,000 indented lines of a real file far faster than a
    // loop over every line would.
    if (isTopLevel(text, 0)) visit(0);
    const topLevel = /\n(?![\t#\n]|\r\n|\r$|$)/g;
    for (let m = topLevel.exec(text); m !== null; m = topLevel.exec(text)) visit(m.index + 1);
    (run as number[] | null)?.push(text.length);
  }

  vendorName(vendor: VendorEntry): string {
    return (vendor.name ??= this.nameAfter(this.text.slice(vendor.line, lineEnd(this.text, vendor.line)), 4));
  }

  deviceName(vendor: VendorEntry, deviceId: number): string | null {
    const at = this.devices(vendor).get(deviceId);
    return at === undefined ? null : this.nameAfter(this.text.slice(at + 1, lineEnd(this.text, at)), 4);
  }

  subsystemName(vendor: VendorEntry, deviceId: number, key: number): string | null {
    const at = this.devices(vendor).get(deviceId);
    if (at === undefined) return null;
    let subsystems = this.subsystemMaps.get(at);
    if (!subsystems) {
      subsystems = this.parseSubsystems(at);
      this.subsystemMaps.set(at, subsystems);
    }
    return subsystems.get(key) ?? null;
  }

  classes(): Map<string, string> {
    return (this.classMap ??= this.parseClasses());
  }

  /** `\tdddd  Device` lines; lines that do not fit are skipped, as lspci skips them. */
  private devices(vendor: VendorEntry): Map<number, number> {
    if (vendor.devices) return vendor.devices;
    const devices = new Map<number, number>();
    const text = this.text;
    // A plain loop, not `lines()`: Intel's run alone is 9,000 lines.
    for (let i = 0; i < vendor.runs.length; i += 2) {
      for (let start = vendor.runs[i], next = start; start < vendor.runs[i + 1]; start = next + 1) {
        next = text.indexOf('\n', start);
        if (next < 0) next = text.length;
        // A device line: one tab, then the id (an empty or comment line has no tab).
        if (text.charCodeAt(start) !== TAB || text.charCodeAt(start + 1) === TAB) continue;
        const id = hexAt(text, start + 1, 4);
        if (id >= 0) devices.set(id, start);
      }
    }
    return (vendor.devices = devices);
  }

  /**
   * The `\t\tssss ssss  Subsystem` lines after a device's line, up to the next device or vendor
   * (a device line that does not fit does not end them).
   */
  private parseSubsystems(deviceLine: number): Map<number, string> {
    const subsystems = new Map<number, string>();
    const text = this.text;
    for (const [start, end] of lines(text, lineEnd(text, deviceLine) + 1, text.length)) {
      const depth = depthOf(text, start, end);
      if (depth === 0 || (depth === 1 && hexAt(text, start + 1, 4) >= 0)) break;
      if (depth !== 2) continue;
      const sv = hexAt(text, start + 2, 4);
      const sd = hexAt(text, start + 7, 4);
      if (sv < 0 || text.charCodeAt(start + 6) !== SPACE || sd < 0) continue;
      subsystems.set(sv * 0x10000 + sd, this.nameAfter(text.slice(start + 2, end), 9));
    }
    return subsystems;
  }

  /** After a `C cc  Class` line, `\tss  Subclass` and `\t\tpp  Prog-if`. */
  private parseClasses(): Map<string, string> {
    const classes = new Map<string, string>();
    const runs = this.classRuns;
    for (let i = 0; i < runs.length; i += 2) {
      let classBase = -1;
      let classSub = -1;
      for (const [start, end] of lines(this.text, runs[i], runs[i + 1])) {
        const depth = depthOf(this.text, start, end);
        const body = this.text.slice(start + depth, end);
        if (depth === 0) {
          const id = body.slice(2, 4);
          classBase = HEX2.test(id) ? parseInt(id, 16) : -1;
          if (classBase >= 0) classes.set(classKey(classBase), this.nameAfter(body, 4));
          continue;
        }
        if (classBase < 0) continue;
        const id = body.slice(0, 2);
        if (!HEX2.test(id)) continue;
        if (depth === 1) {
          classSub = parseInt(id, 16);
          classes.set(classKey(classBase, classSub), this.nameAfter(body, 2));
        } else if (classSub >= 0) {
          classes.set(classKey(classBase, classSub, parseInt(id, 16)), this.nameAfter(body, 2));
        }
      }
    }
    return classes;
  }

  /** The name after an id on a line (a line of bytes is decoded first: the id is ASCII). */
  private nameAfter(body: string, idLength: number): string {
    const rest = body.slice(idLength);
    return (this.utf8 && NOT_ASCII.test(rest) ? Buffer.from(rest, 'latin1').toString('utf8') : rest).trim();
  }
}

const NOT_ASCII = /[\u0080-\u00ff]/;

const EMPTY = new Index('', null);

/**
 * Names from `path`, or from the first of the usual places that exists. Nothing is read until the
 * first lookup.
 */
export function loadPciIds(path?: string): PciNames {
  let index: Index | null = null;
  return namesFrom(() => (index ??= readIndex(path === undefined ? DEFAULT_PCI_IDS_PATHS : [path])));
}

/** Names parsed from the text of a pci.ids file (for tests and for callers that hold the text). */
export function parsePciIds(text: string, path: string | null = null): PciNames {
  const index = new Index(text, path);
  return namesFrom(() => index);
}

function namesFrom(get: () => Index): PciNames {
  return {
    vendor: (v) => {
      const index = get();
      const vendor = index.vendors.get(v);
      return vendor ? index.vendorName(vendor) : null;
    },
    device: (v, d) => {
      const index = get();
      const vendor = index.vendors.get(v);
      return vendor ? index.deviceName(vendor, d) : null;
    },
    subsystem: (v, d, sv, sd) => {
      const index = get();
      const vendor = index.vendors.get(v);
      return vendor ? index.subsystemName(vendor, d, sv * 0x10000 + sd) : null;
    },
    className: (code) => {
      const c = get().classes();
      const base = (code >> 16) & 0xff;
      return c.get(classKey(base, (code >> 8) & 0xff)) ?? c.get(classKey(base)) ?? null;
    },
    progIfName: (code) => get().classes().get(classKey((code >> 16) & 0xff, (code >> 8) & 0xff, code & 0xff)) ?? null,
    get path() {
      return get().path;
    },
  };
}

function classKey(base: number, sub?: number, progIf?: number): string {
  return progIf !== undefined ? `${base}.${sub}.${progIf}` : sub !== undefined ? `${base}.${sub}` : `${base}`;
}

function readIndex(paths: string[]): Index {
  for (const p of paths) {
    let text: string;
    try {
      text = readFileSync(p, 'latin1');
    } catch {
      continue;
    }
    return new Index(text, p, true);
  }
  return EMPTY;
}

const HEX2 = /^[0-9a-fA-F]{2}$/;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const HASH = 0x23;

/** The value of `digits` hex digits at `pos`, or -1 when any of them is not one (a line end is not). */
function hexAt(text: string, pos: number, digits: number): number {
  let value = 0;
  for (let i = 0; i < digits; i++) {
    const c = text.charCodeAt(pos + i); // NaN past the end: no digit
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** Where the line starting at `start` ends, a trailing CR left out. */
function lineEnd(text: string, start: number): number {
  let next = text.indexOf('\n', start);
  if (next < 0) next = text.length;
  return next > start && text.charCodeAt(next - 1) === CR ? next - 1 : next;
}

/** A vendor or class line, or a line that ends one's run: neither indented, a comment, nor empty. */
function isTopLevel(text: string, start: number): boolean {
  if (start >= text.length) return false;
  const c = text.charCodeAt(start);
  return c !== TAB && c !== HASH && c !== LF && lineEnd(text, start) > start;
}

/** The lines of `text[from, to)` as start and end offsets, a trailing CR left out. */
function* lines(text: string, from: number, to: number): Generator<[number, number]> {
  let start = from;
  while (start < to) {
    let next = text.indexOf('\n', start);
    if (next < 0 || next > to) next = to;
    const end = next > start && text.charCodeAt(next - 1) === CR ? next - 1 : next;
    yield [start, end];
    start = next + 1;
  }
}

/** 0 for a vendor or class line, 1 for a device or subclass, 2 for a subsystem or prog-if; -1 to skip. */
function depthOf(text: string, start: number, end: number): number {
  if (start === end || text.charCodeAt(start) === HASH) return -1;
  if (text.charCodeAt(start) !== TAB) return 0;
  return text.charCodeAt(start + 1) === TAB ? 2 : 1;
}

