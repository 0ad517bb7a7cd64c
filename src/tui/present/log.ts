import type { HotslotEvent } from '../../core/events.js';
import { cell, type Cell, type Line, type Meaning } from './cells.js';
import { formatMs, operationTitle } from './operations.js';

/** Time since the log began, right-aligned: `  +0.4s`, ` +12.3s`, `+5m02s`, `+1h02m`. */
export function logClock(ms: number): string {
  const t = Math.max(0, ms);
  const s = Math.floor(t / 1000);
  const text = s < 60 ? `+${(t / 1000).toFixed(1)}s` : s < 3600 ? `+${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `+${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
  return text.padStart(7);
}

const source = (name: string): Cell => cell(name.padEnd(6), 'muted');

/** What the log needs to remember of an operation to name it in its later events. */
export type OperationNames = Map<string, string>;

function summary(data: unknown): string {
  if (data === null || data === undefined) return '';
  if (typeof data === 'object' && 'device' in data && typeof (data as { device: unknown }).device === 'string') {
    return (data as { device: string }).device;
  }
  const text = JSON.stringify(data);
  return text === '{}' ? '' : text;
}

const OUTCOME_MEANING: Record<string, Meaning> = { done: 'ok', failed: 'error', refused: 'warn', stuck: 'error' };
const STEP_MEANING: Record<string, Meaning> = { running: 'pending', ok: 'ok', failed: 'error', undone: 'warn', skipped: 'muted' };

function changedFields(e: Extract<HotslotEvent, { type: 'host.device.changed' }>): string {
  return e.fields
    .map((f) => {
      if (f === 'driver') return `driver ${e.device.driver ?? '(none)'}`;
      if (f === 'owner') return `owner ${e.device.owner.guest ?? e.device.owner.kind}`;
      if (f === 'interrupts') return `interrupts ${e.device.interrupts.mode}`;
      return f;
    })
    .join(', ');
}

/**
 * One log line for an event, or null for the ones that would drown the rest (interrupt counts,
 * a guest's device list). `names` is kept by the caller across events so that an operation's
 * steps carry its title.
 */
export function logLine(e: HotslotEvent, names: OperationNames): Line | null {
  switch (e.type) {
    case 'host.scanned':
      return [source('sysfs'), cell(`scan: ${e.devices.length} devices, IOMMU ${e.iommu ? 'on' : 'off'}`)];
    case 'host.device.added':
      return [source('sysfs'), cell(`+ ${e.device.bdf} ${e.device.deviceName ?? ''}`, 'accent')];
    case 'host.device.removed':
      return [source('sysfs'), cell(`- ${e.bdf} removed`, 'warn')];
    case 'host.device.changed':
      return [source('sysfs'), cell(`${e.device.bdf} `), cell(changedFields(e))];
    case 'host.interrupts':
    case 'guest.devices':
      return null;
    case 'guest.connected':
      return [source('guest'), cell(`${e.guest} connected`, 'ok'), cell(` QEMU ${e.qemuVersion ?? '?'}, ${e.runState ?? 'unknown'}`, 'muted')];
    case 'guest.disconnected':
      return [source('guest'), cell(`${e.guest} gone: ${e.reason}`, 'warn')];
    case 'guest.status':
      return [source('guest'), cell(`${e.guest} ${e.runState}`)];
    case 'qmp.event': {
      const data = summary(e.data);
      return [source('qmp'), cell(`${e.guest} `), cell(e.event, 'accent'), cell(data ? ` ${data}` : '', 'muted')];
    }
    case 'op.started': {
      const title = operationTitle({ op: e.op, bdfs: e.bdfs, guest: e.guest, fromGuest: e.fromGuest });
      names.set(e.opId, title);
      return [source('op'), cell(title), cell(' started', 'pending')];
    }
    case 'op.step': {
      const title = names.get(e.opId) ?? e.opId;
      const time = e.ms !== undefined && e.status !== 'running' ? ` ${formatMs(e.ms)}` : '';
      return [
        source('op'),
        cell(`${title}: ${e.step} `),
        cell(e.status, STEP_MEANING[e.status] ?? 'normal'),
        cell(time, 'muted'),
        ...(e.detail ? [cell(` ${e.detail}`, 'muted')] : []),
      ];
    }
    case 'op.finished': {
      const title = names.get(e.opId) ?? e.opId;
      return [source('op'), cell(`${title} `), cell(e.outcome, OUTCOME_MEANING[e.outcome] ?? 'normal'), cell(e.message ? `: ${e.message}` : '')];
    }
  }
}
