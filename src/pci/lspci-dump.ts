/**
 * Reads the text that `lspci -x`, `-xxx` or `-xxxx` prints (and `lspci -F FILE` reads back): one
 * block per function, a header line `BB:DD.F Class: Name` or `DDDD:BB:DD.F ...`, then hex rows
 * `00: 86 80 ...`. Indented lines (`lspci -vvv` text) and other lines are skipped, as pciutils'
 * dump reader (lib/dump.c) skips them; what it would reject, and what hotslot cannot use, is
 * reported with its line number.
 */
import { BdfError, normalizeBdf } from './bdf.js';

export interface DumpFunction {
  /** `DDDD:BB:DD.F`; domain 0000 when the dump has none. */
  bdf: string;
  /** The configuration space as far as the dump covers it; bytes inside it that no row gave read 0xff. */
  bytes: Uint8Array;
  /** Line of the function's header, for messages. */
  line: number;
}

export class LspciDumpError extends Error {
  constructor(
    readonly line: number | null,
    readonly reason: string,
  ) {
    super(line === null ? reason : `line ${line}: ${reason}`);
    this.name = 'LspciDumpError';
  }
}

/** PCIe configuration space; lspci refuses rows beyond it too. */
const MAX_CONFIG_BYTES = 4096;

const HEADER = /^((?:[0-9a-fA-F]{4,5}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])(?:\s|$)/;
const ROW = /^([0-9a-fA-F]{2,8}):(?: (.*))?$/;
const BYTE = /^[0-9a-fA-F]{2}$/;

interface OpenBlock {
  bdf: string;
  line: number;
  data: Uint8Array;
  length: number;
}

export function readLspciDump(text: string): DumpFunction[] {
  const functions: DumpFunction[] = [];
  const seen = new Map<string, number>();
  let block: OpenBlock | null = null;

  const close = () => {
    if (block) functions.push(finish(block));
    block = null;
  };

  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];

    const header = HEADER.exec(line);
    if (header) {
      close();
      const bdf = bdfOf(header[1], lineNo);
      const earlier = seen.get(bdf);
      if (earlier !== undefined) throw new LspciDumpError(lineNo, `function ${bdf} appears twice (first at line ${earlier})`);
      seen.set(bdf, lineNo);
      block = { bdf, line: lineNo, data: new Uint8Array(MAX_CONFIG_BYTES).fill(0xff), length: 0 };
      continue;
    }
    if (line.trim() === '') {
      close();
      continue;
    }
    const row = ROW.exec(line);
    if (!row) continue; // lspci -vvv text, or anything else lspci would skip too
    if (!block) throw new LspciDumpError(lineNo, 'hex row outside a function block (no `BB:DD.F ...` header line before it)');
    addRow(block, parseInt(row[1], 16), row[2] ?? '', lineNo);
  }
  close();

  if (functions.length === 0) {
    throw new LspciDumpError(null, 'not an lspci dump: no function header line (`BB:DD.F Class: Name`) found');
  }
  return functions;
}

function bdfOf(text: string, lineNo: number): string {
  if (/^[0-9a-fA-F]{5}:/.test(text)) {
    throw new LspciDumpError(lineNo, `PCI domain ${text.slice(0, 5)} is wider than the 4 hex digits hotslot handles`);
  }
  try {
    return normalizeBdf(text);
  } catch (err) {
    if (err instanceof BdfError) throw new LspciDumpError(lineNo, `not a PCI address: ${text} (device numbers go up to 1f)`);
    throw err;
  }
}

function addRow(block: OpenBlock, offset: number, rest: string, lineNo: number): void {
  const tokens = rest.trim() === '' ? [] : rest.trim().split(/ +/);
  let at = offset;
  for (const token of tokens) {
    if (!BYTE.test(token)) throw new LspciDumpError(lineNo, `malformed hex row: ${JSON.stringify(token)} is not a byte (two hex digits)`);
    if (at >= MAX_CONFIG_BYTES) {
      throw new LspciDumpError(lineNo, `hex row reaches offset 0x${at.toString(16)}, past the 4096 bytes of configuration space`);
    }
    block.data[at++] = parseInt(token, 16);
  }
  block.length = Math.max(block.length, at);
}

function finish(block: OpenBlock): DumpFunction {
  if (block.length === 0) {
    throw new LspciDumpError(
      block.line,
      `function ${block.bdf} has no hex rows (make the dump with lspci -xxx or -xxxx, which print the configuration bytes)`,
    );
  }
  return { bdf: block.bdf, bytes: block.data.slice(0, block.length), line: block.line };
}
