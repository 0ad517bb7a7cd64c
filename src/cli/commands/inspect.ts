import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import type { AcsFlags, Device } from '../../core/device.js';
import { decodeConfigSpace } from '../../pci/config-space.js';
import type { ConfigSpace } from '../../pci/config-space-types.js';
import { busResetPossibleInDump, describeFromConfig } from '../../pci/device-from-config.js';
import { LspciDumpError, readLspciDump, type DumpFunction } from '../../pci/lspci-dump.js';
import { loadPciIds, type PciNames } from '../../pci/pci-ids.js';
import { globalOptions, printJson } from '../context.js';
import { usageError } from '../exit-codes.js';

/** A dump of 4096-byte spaces for every function of a large machine stays well under this. */
const MAX_DUMP_BYTES = 64 * 1024 * 1024;

interface InspectOptions {
  dump: string;
  json?: boolean;
}

export interface InspectedFunction {
  device: Device;
  cfg: ConfigSpace;
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('decode an `lspci -xxx`/`-xxxx` dump of configuration spaces (offline analysis)')
    .requiredOption('--dump <file>', 'the dump file')
    .option('--json', 'print an array of device records')
    .action((opts: InspectOptions, cmd: Command) => {
      const names = loadPciIds(globalOptions(cmd).pciIds);
      const functions = inspectDump(opts.dump, names);
      if (opts.json) printJson(functions.map((f) => f.device));
      else process.stdout.write(functions.map((f) => renderFunction(f, names)).join('\n'));
    });
}

/** Reads and decodes a dump; a file that cannot be read or is not a dump is a usage error (exit 2). */
export function inspectDump(file: string, names: PciNames): InspectedFunction[] {
  const text = readDumpText(file);
  let parsed: DumpFunction[];
  try {
    parsed = readLspciDump(text);
  } catch (err) {
    if (err instanceof LspciDumpError) throw usageError(`${file}: ${err.message}`);
    throw err;
  }
  const decoded = parsed.map((f) => ({ bdf: f.bdf, cfg: decodeConfigSpace(f.bytes) }));
  const busReset = busResetPossibleInDump(decoded);
  return decoded.map(({ bdf, cfg }) => ({
    cfg,
    device: describeFromConfig(bdf, cfg, names, { busResetPossible: busReset.get(bdf) ?? false }),
  }));
}

function readDumpText(file: string): string {
  let bytes: Buffer;
  try {
    const size = statSync(file).size;
    if (size > MAX_DUMP_BYTES) throw usageError(`${file}: ${size} bytes is too large for an lspci dump`);
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') throw err;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : code;
    throw usageError(`cannot read dump ${file}: ${why}`);
  }
  if (bytes.includes(0)) throw usageError(`${file}: not an lspci dump (binary data; make one with lspci -xxx)`);
  return bytes.toString('utf8');
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const flag = (on: boolean) => (on ? '+' : '-');

const PCIE_TYPE_WORDS: Record<string, string> = {
  endpoint: 'Endpoint',
  'legacy-endpoint': 'Legacy Endpoint',
  'root-port': 'Root Port',
  'upstream-port': 'Upstream Port',
  'downstream-port': 'Downstream Port',
  'pcie-to-pci-bridge': 'PCI-Express to PCI/PCI-X Bridge',
  'pci-to-pcie-bridge': 'PCI/PCI-X to PCI-Express Bridge',
  'root-complex-endpoint': 'Root Complex Integrated Endpoint',
  'root-complex-event-collector': 'Root Complex Event Collector',
};

/** One function as a block of labelled lines, for an operator reading a terminal. */
export function renderFunction({ device: d, cfg }: InspectedFunction, names?: PciNames): string {
  const lines: string[] = [];
  const ids = `${hex(cfg.vendorId, 4)}:${hex(cfg.deviceId, 4)}`;
  const who = [d.vendorName, d.deviceName].filter((s) => s !== null).join(' ') || 'unknown device';
  const className = names?.className?.(cfg.classCode) ?? 'Class';
  const progIf = names?.progIfName?.(cfg.classCode);
  const classText = `${className} [${hex(cfg.classCode, 6)}${progIf ? ` ${progIf}` : ''}]`;
  lines.push(`${d.bdf}  [${ids}] ${classText}: ${who} (rev ${hex(cfg.revision, 2)})`);
  if (cfg.subsystemVendorId !== null && cfg.subsystemId !== null) {
    const subName = names?.subsystem?.(cfg.vendorId, cfg.deviceId, cfg.subsystemVendorId, cfg.subsystemId);
    lines.push(row('subsystem', `${hex(cfg.subsystemVendorId, 4)}:${hex(cfg.subsystemId, 4)}${subName ? ` ${subName}` : ''}`));
  }
  const header = d.headerType ?? 'unknown';
  lines.push(row('header', `${header}${cfg.multiFunction ? ', multi-function' : ''}; ${cfg.length} bytes of configuration space`));
  if (cfg.pcie) {
    const slot = cfg.pcie.slotImplemented ? ', slot' : '';
    const type = cfg.pcie.portType ? PCIE_TYPE_WORDS[cfg.pcie.portType] : 'unknown port type';
    lines.push(row('PCIe', `${type} (v${cfg.pcie.version})${slot}`));
  } else {
    lines.push(row('PCIe', 'no (conventional PCI)'));
  }
  lines.push(row('interrupts', interruptsText(d, cfg)));
  lines.push(row('reset', resetText(d)));
  lines.push(row('ACS', d.acs ? acsText(d.acs.flags) : 'none'));
  if (cfg.sriov) {
    const s = cfg.sriov;
    lines.push(row('SR-IOV', `${s.totalVFs} VFs total, ${s.numVFs} enabled, ${s.initialVFs} initial; VF device ${hex(s.vfDeviceId, 4)}, offset ${s.vfOffset}, stride ${s.vfStride}`));
  } else {
    lines.push(row('SR-IOV', 'none'));
  }
  if (d.capabilities.length === 0) lines.push(row('capabilities', 'none'));
  else {
    lines.push(row('capabilities', ''));
    for (const c of d.capabilities) {
      const at = c.extended ? hex(c.offset, 3) : hex(c.offset, 2);
      lines.push(`    [${at}] ${c.name}${c.extended ? ' (extended)' : ''}`);
    }
  }
  for (const problem of cfg.chainProblems) lines.push(row('warning', problem));
  for (const reason of d.assignable.reasons) {
    if (reason.code !== 'offline') lines.push(row('assignable', `no: ${reason.message}`));
  }
  return lines.join('\n') + '\n';
}

function row(label: string, text: string): string {
  return `  ${label.padEnd(13)}${text}`.trimEnd();
}

function interruptsText(d: Device, cfg: ConfigSpace): string {
  const parts: string[] = [];
  parts.push(d.interrupts.pin ? `pin ${d.interrupts.pin}${d.interrupts.irq !== null ? ` (line ${d.interrupts.irq})` : ''}` : 'no pin');
  if (cfg.msi) {
    const m = cfg.msi;
    parts.push(`MSI Enable${flag(m.enabled)} Count=${m.vectorsEnabled}/${m.vectorsCapable} Maskable${flag(m.maskable)} 64bit${flag(m.is64Bit)}`);
  }
  if (cfg.msix) parts.push(`MSI-X Enable${flag(cfg.msix.enabled)} Count=${cfg.msix.tableSize} Masked${flag(cfg.msix.functionMasked)}`);
  parts.push(`in use: ${d.interrupts.mode}`);
  return parts.join('; ');
}

function resetText(d: Device): string {
  const r = d.reset;
  const methods = r.methods.length ? r.methods.join(', ') : 'none known offline';
  const pm = r.pmNoSoftReset === null ? 'no PM' : `NoSoftRst${flag(r.pmNoSoftReset)}`;
  return `${methods}  (FLReset${flag(r.flr)} AF-FLR${flag(r.afFlr)} ${pm}; bus reset ${r.busResetPossible ? 'possible' : 'not known'})`;
}

function acsText(f: AcsFlags): string {
  return [
    `SrcValid${flag(f.sourceValidation)}`,
    `TransBlk${flag(f.translationBlocking)}`,
    `ReqRedir${flag(f.requestRedirect)}`,
    `CmpltRedir${flag(f.completionRedirect)}`,
    `UpstreamFwd${flag(f.upstreamForwarding)}`,
    `EgressCtrl${flag(f.egressControl)}`,
    `DirectTrans${flag(f.directTranslatedP2P)}`,
  ].join(' ');
}
