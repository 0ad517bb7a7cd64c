import { connectGuests, type Guest } from '../guests/index.js';
import type { GlobalOptions } from './context.js';
import { guestSpecs } from './hotplug-session.js';

export type GuestHolders = Map<string, { guest: string; qdevId?: string }>;

/** Which of these connected guests holds which host device; a guest that stops answering holds nothing we can show. */
export async function holdersOf(guests: readonly Guest[]): Promise<GuestHolders> {
  const holders: GuestHolders = new Map();
  for (const guest of guests) {
    try {
      for (const d of (await guest.pci()).devices) {
        if (d.hostBdf) holders.set(d.hostBdf, { guest: guest.name, ...(d.qdevId ? { qdevId: d.qdevId } : {}) });
      }
    } catch {
      // see above
    }
  }
  return holders;
}

/** Which configured guest holds which host device right now; empty when no guest is configured. */
export async function guestHolders(g: GlobalOptions): Promise<GuestHolders> {
  const specs = guestSpecs(g);
  if (specs.length === 0) return new Map();
  const { guests } = await connectGuests(specs, { timeoutMs: 3_000 });
  try {
    return await holdersOf(guests);
  } finally {
    await Promise.allSettled(guests.map((x) => x.close()));
  }
}
