import { connectQmp, describeEndpoint, formatQemuVersion, type QmpClient } from '../qmp/index.js';
import type { GuestPciDevice } from '../core/state.js';
import { readGuestPci, type GuestPciView } from './guest-pci.js';
import type { GuestSpec } from './guest-specs.js';

/** What hotslot knows of one guest at one moment. */
export interface GuestSnapshot {
  name: string;
  socket: string;
  connected: boolean;
  runState: string | null;
  qemuVersion: string | null;
  devices: GuestPciDevice[];
  freeSlots: string[];
  /** Why it is not connected. */
  error: string | null;
}

/** One running guest's QEMU, reached over QMP. */
export class Guest {
  private constructor(
    readonly name: string,
    readonly spec: GuestSpec,
    readonly client: QmpClient,
  ) {}

  /** Connects; the name is the configured one, or QEMU's `-name` for a spec that asks for it. */
  static async connect(spec: GuestSpec, opts: { timeoutMs?: number } = {}): Promise<Guest> {
    const client = await connectQmp(spec.endpoint, { connectTimeoutMs: opts.timeoutMs ?? 5_000, commandTimeoutMs: 30_000 });
    let name = spec.name;
    if (spec.nameFromQemu) {
      try {
        const n = await client.execute<{ name?: string }>('query-name');
        if (n.name) name = n.name;
      } catch {
        // keep the file name
      }
    }
    return new Guest(name, spec, client);
  }

  get socket(): string {
    return describeEndpoint(this.spec.endpoint);
  }

  get qemuVersion(): string | null {
    const g = this.client.greeting;
    return g ? formatQemuVersion(g) : null;
  }

  async runState(): Promise<string> {
    const s = await this.client.execute<{ status: string }>('query-status', undefined, { timeoutMs: 5_000 });
    return s.status;
  }

  pci(): Promise<GuestPciView> {
    return readGuestPci(this.client);
  }

  async snapshot(): Promise<GuestSnapshot> {
    const runState = await this.runState();
    const pci = await this.pci();
    return {
      name: this.name,
      socket: this.socket,
      connected: true,
      runState,
      qemuVersion: this.qemuVersion,
      devices: pci.devices,
      freeSlots: pci.freeSlots,
      error: null,
    };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** Connects to every guest; one that cannot be reached is reported, not fatal. */
export async function connectGuests(
  specs: GuestSpec[],
  opts: { timeoutMs?: number } = {},
): Promise<{ guests: Guest[]; unreachable: GuestSnapshot[] }> {
  const results = await Promise.allSettled(specs.map((s) => Guest.connect(s, opts)));
  const guests: Guest[] = [];
  const unreachable: GuestSnapshot[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') guests.push(r.value);
    else
      unreachable.push({
        name: specs[i].name,
        socket: describeEndpoint(specs[i].endpoint),
        connected: false,
        runState: null,
        qemuVersion: null,
        devices: [],
        freeSlots: [],
        error: r.reason instanceof Error ? r.reason.message : String(r.reason),
      });
  });
  return { guests, unreachable };
}
