import { anyGuestConfigured } from './config-file.js';
import type { GlobalOptions } from './context.js';

/**
 * Which configured guest holds which host device. Guests are asked only when some are configured,
 * and their modules (QMP, RxJS) load only then: `list` and `check` stay quick without them.
 */
export async function heldByGuests(g: GlobalOptions): Promise<Map<string, { guest: string; qdevId?: string }>> {
  if (!anyGuestConfigured(g)) return new Map();
  const { guestHolders } = await import('./guest-holders.js');
  return guestHolders(g);
}
