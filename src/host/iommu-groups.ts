/**
 * IOMMU groups: the smallest sets of functions the IOMMU can isolate from each other. A guest
 * gets a whole group or nothing, so every other member must be free for vfio-pci.
 */
import { posix as path } from 'node:path';
import { hasEntries } from './sysfs-files.js';

/** The host has an IOMMU in use when `/sys/kernel/iommu_groups` holds at least one group. */
export function iommuPresent(sysfsRoot: string): boolean {
  return hasEntries(path.join(sysfsRoot, 'kernel/iommu_groups'));
}

/**
 * Members of each group, from each function's `iommu_group` link (the same facts as
 * `kernel/iommu_groups/N/devices`, without a second walk).
 */
export function groupMembers(functions: Iterable<{ bdf: string; iommuGroup: number | null }>): Map<number, string[]> {
  const groups = new Map<number, string[]>();
  for (const f of functions) {
    if (f.iommuGroup === null) continue;
    const list = groups.get(f.iommuGroup) ?? [];
    list.push(f.bdf);
    groups.set(f.iommuGroup, list);
  }
  for (const list of groups.values()) list.sort();
  return groups;
}
