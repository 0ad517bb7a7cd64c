/**
 * Parsers for what lspci printed beside a sysfs snapshot (oracle/lspci-D-*.txt): the independent
 * witness that tests hold hotslot's reading of the same tree against.
 */

/** An oracle parser that matched nothing would make every loop over it pass: refuse that. */
export function nonEmpty<M extends Map<unknown, unknown>>(m: M, what: string): M {
  if (m.size === 0) throw new Error(`the oracle's ${what} matched nothing: its format changed`);
  return m;
}

const chunks = (text: string) => text.split(/\n(?=[0-9a-f]{4}:)/);

/** `lspci -D -nn -k`: BDF -> ids, class, driver. */
export function lspciNnK(text: string) {
  const out = new Map<string, { ids: string; cls: string; driver: string | null }>();
  for (const chunk of chunks(text)) {
    const head = /^([0-9a-f:.]{12}) .*\[([0-9a-f]{4})\]: .*\[([0-9a-f]{4}:[0-9a-f]{4})\]/.exec(chunk);
    if (!head) continue;
    out.set(head[1], { cls: head[2], ids: head[3], driver: /Kernel driver in use: (\S+)/.exec(chunk)?.[1] ?? null });
  }
  return nonEmpty(out, 'lspci -D -nn -k');
}

/** `lspci -vvv`: BDF -> which of MSI / MSI-X is enabled, whether a pin is wired, VFs, IOMMU group. */
export function lspciVvv(text: string) {
  const out = new Map<string, { msix: boolean; msi: boolean; pin: boolean; numVFs: number | null; group: number | null }>();
  for (const chunk of chunks(text)) {
    const bdf = /^([0-9a-f:.]{12}) /.exec(chunk)?.[1];
    if (!bdf) continue;
    const vfs = /Number of VFs: (\d+)/.exec(chunk);
    const group = /IOMMU group: (\d+)/.exec(chunk);
    out.set(bdf, {
      msix: /MSI-X: Enable\+/.test(chunk),
      msi: /MSI: Enable\+/.test(chunk),
      pin: /Interrupt: pin [A-D]/.test(chunk),
      numVFs: vfs ? Number(vfs[1]) : null,
      group: group ? Number(group[1]) : null,
    });
  }
  return nonEmpty(out, 'lspci -vvv');
}
