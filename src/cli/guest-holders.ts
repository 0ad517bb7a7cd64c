import { connectGuests } from '../guests/index.js';
import type { GlobalOptions } from './context.js';
import { guestSpecs } from './hotplug-session.js';

/** Which configured guest holds which host device right now; empty when no guest is configured. */
export async function guestHolders(g: GlobalOptions): Promise<Map<string, { guest: string; qdevId?: string }>> {
  const holders = new Map<string, { guest: string; qdevId?: string }>();
  const specs = guestSpecs(g);
  if (specs.length === 0) return holders;
  const { guests } = await connectGuests(specs, { timeoutMs: 3_000 });
  try {
    for (const guest of guests) {
      try {
        for (const d of (await guest.pci()).devices) {
          if (d.hostBdf) holders.set(d.hostBdf, { guest: guest.name, ...(d.qdevId ? { qdevId: d.qdevId } : {}) });
        }
      } catch {
        // a guest that stops answering holds nothing we can show
      }
    }
  } finally {
    await Promise.allSettled(guests.map((x) => x.close()));
  }
  return holders;
}
