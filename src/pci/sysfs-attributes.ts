/**
 * The text of the kernel's PCI sysfs attributes that both the reader and the kernel port parse,
 * in one place so they never disagree.
 */

/** `driver_override` reads `(null)` when unset. */
export function parseDriverOverride(text: string | null): string | null {
  if (text === null) return null;
  const v = text.trim();
  return v === '' || v === '(null)' ? null : v;
}

/** `reset_method` is space-separated since Linux 5.16 (comma-separated in 5.15); null when absent. */
export function parseResetMethods(text: string | null): string[] | null {
  if (text === null) return null;
  return text.split(/[\s,]+/).filter((m) => m.length > 0);
}
