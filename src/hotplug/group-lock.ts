/** In-process, per-IOMMU-group serialisation: two operations never touch one group at once. */
export class GroupLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: readonly (string | number)[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys.map(String))].sort();
    const releases: (() => void)[] = [];
    try {
      for (const key of sorted) {
        const previous = this.tails.get(key) ?? Promise.resolve();
        let release!: () => void;
        const mine = new Promise<void>((r) => (release = r));
        const tail = previous.then(() => mine);
        this.tails.set(key, tail);
        await previous;
        releases.push(() => {
          release();
          if (this.tails.get(key) === tail) this.tails.delete(key);
        });
      }
      return await fn();
    } finally {
      for (const r of releases.reverse()) r();
    }
  }
}
