import type { Command } from 'commander';
import type { GuestSnapshot } from '../../guests/index.js';
import { globalOptions, printJson } from '../context.js';

export function registerGuests(program: Command): void {
  program
    .command('guests')
    .description('every configured guest: run state, QEMU version, host devices it holds, free hotplug slots')
    .option('--json', 'print an array of guests as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const [{ guestSpecs }, { connectGuests }] = await Promise.all([import('../hotplug-session.js'), import('../../guests/index.js')]);
      const specs = guestSpecs(globalOptions(cmd));
      const { guests, unreachable } = await connectGuests(specs, { timeoutMs: 5_000 });
      const snapshots: GuestSnapshot[] = [...unreachable];
      try {
        for (const g of guests) {
          try {
            snapshots.push(await g.snapshot());
          } catch (err) {
            snapshots.push({ name: g.name, socket: g.socket, connected: false, runState: null, qemuVersion: g.qemuVersion, devices: [], freeSlots: [], error: (err as Error).message });
          }
        }
      } finally {
        await Promise.allSettled(guests.map((g) => g.close()));
      }
      snapshots.sort((a, b) => a.name.localeCompare(b.name));
      if (opts.json) {
        printJson(snapshots);
        return;
      }
      if (snapshots.length === 0) {
        process.stdout.write('no guests: name them with --guest NAME=SOCKET or --guest-dir DIR\n');
        return;
      }
      const rows = snapshots.map((s) => [
        s.name,
        s.connected ? (s.runState ?? '?') : 'unreachable',
        s.qemuVersion ?? '-',
        s.devices.filter((d) => d.hostBdf).map((d) => d.hostBdf).join(',') || '-',
        String(s.freeSlots.length),
        s.error ?? s.socket,
      ]);
      const head = ['GUEST', 'STATE', 'QEMU', 'HOST DEVICES', 'FREE', 'SOCKET'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      for (const r of [head, ...rows]) process.stdout.write(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ') + '\n');
    });
}
