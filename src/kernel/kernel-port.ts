/**
 * The narrow interface through which the hotplug layer changes the host's PCI bindings.
 *
 * Every change is one write to one sysfs file, exactly as an operator would `echo` it; every
 * failure is a {@link KernelError} that names the operation, the device, the file and the
 * kernel's errno, in a sentence an operator can act on.
 */

/** The operations a port carries out; fault injection and error sentences use these names. */
export type KernelOp =
  | 'unbind'
  | 'setDriverOverride'
  | 'clearDriverOverride'
  | 'driversProbe'
  | 'reset'
  | 'setNumVfs'
  | 'waitForDriver'
  | 'read';

/** Reset methods the kernel lists in `reset_method` (Linux 6.1 names). */
export type ResetMethod = 'device_specific' | 'acpi' | 'flr' | 'af_flr' | 'pm' | 'bus' | 'cxl_bus';

export const RESET_METHODS: readonly ResetMethod[] = ['device_specific', 'acpi', 'flr', 'af_flr', 'pm', 'bus', 'cxl_bus'];

/** One write to one sysfs file: what `--dry-run` prints and what the simulator carries out. */
export interface SysfsWrite {
  op: KernelOp;
  /** The device the write is about (for `drivers_probe`, the device being probed). */
  bdf: string;
  /** Absolute path of the file written, under the port's sysfs root. */
  path: string;
  /** The exact bytes written. */
  value: string;
}

export interface ResetResult {
  /** The method that was selected for this reset, or null when the kernel's own order was used. */
  method: ResetMethod | null;
  /** `reset_method` as it read before the reset. */
  methodsBefore: string[];
  /**
   * What became of `reset_method`: left alone (no method chosen, or it already was the only one),
   * put back exactly, or set to the kernel's `default` because the old list no longer passes the
   * kernel's check (a `bus` entry once a sibling shares the bus).
   */
  restored: 'unchanged' | 'exact' | 'default';
}

export interface WaitOptions {
  /** Give up after this long (default 5000 ms). */
  timeoutMs?: number;
  /** Time between two reads of the `driver` link (default 50 ms). */
  pollMs?: number;
}

export interface SriovState {
  numVfs: number;
  totalVfs: number;
}

export interface UnbindResult {
  /** The driver the device was bound to, or null when it was already unbound (nothing written). */
  from: string | null;
}

export interface KernelPort {
  readonly kind: 'real' | 'sim' | 'dry-run';
  /** The sysfs root every path is under (`/sys` for the real kernel). */
  readonly sysfsRoot: string;

  /** Unbinds the device from its driver (`devices/BDF/driver/unbind`); nothing to do when unbound. */
  unbind(bdf: string): Promise<UnbindResult>;
  /** Makes only `driver` eligible for the device at the next probe (`driver_override`). */
  setDriverOverride(bdf: string, driver: string): Promise<void>;
  /** Lets the device's own driver match again (writes a newline to `driver_override`). */
  clearDriverOverride(bdf: string): Promise<void>;
  /** Asks the kernel to bind a driver to an unbound device (`/sys/bus/pci/drivers_probe`). */
  driversProbe(bdf: string): Promise<void>;
  /**
   * Resets the function through its `reset` file. With a method, selects it in `reset_method`
   * first and puts the previous list back afterwards, whether or not the reset worked.
   */
  reset(bdf: string, method?: ResetMethod): Promise<ResetResult>;
  /**
   * Sets a PF's VF count (`sriov_numvfs`). The kernel refuses to change a non-zero count to
   * another non-zero count (EBUSY); with `throughZero` the port writes 0 first, which removes
   * every existing VF.
   */
  setNumVfs(bdf: string, count: number, opts?: { throughZero?: boolean }): Promise<void>;
  /** Polls the `driver` link until it names `driver` (null: until the device is unbound). */
  waitForDriver(bdf: string, driver: string | null, opts?: WaitOptions): Promise<void>;

  /** Whether the function exists under `bus/pci/devices`. */
  exists(bdf: string): Promise<boolean>;
  /** The bound driver's name, or null. */
  currentDriver(bdf: string): Promise<string | null>;
  /** `driver_override`, or null when unset (the kernel shows `(null)`). */
  driverOverride(bdf: string): Promise<string | null>;
  /** `reset_method` as a list, or null when the function has no such file (no method at all). */
  resetMethods(bdf: string): Promise<string[] | null>;
  /** The IOMMU group number, or null when the function has none. */
  iommuGroup(bdf: string): Promise<string | null>;
  /** A PF's VF counts, or null when the function is not an SR-IOV PF. */
  sriov(bdf: string): Promise<SriovState | null>;
}

export interface DryRunKernelPort extends KernelPort {
  readonly kind: 'dry-run';
  /** Every write the port would have made, in order; none was made. */
  describeWrites(): SysfsWrite[];
}

/** A failure the kernel reported (or a wait that ran out), as a sentence with its parts. */
export class KernelError extends Error {
  constructor(
    readonly op: KernelOp,
    readonly bdf: string,
    readonly path: string,
    /** The errno name, such as `EBUSY`; `ETIMEDOUT` for a wait that ran out. */
    readonly code: string,
    message: string,
    /** The value that was being written, when the failure was a write. */
    readonly value?: string,
  ) {
    super(message);
    this.name = 'KernelError';
  }
}

/** Input the port refuses before anything is written (a driver name with a slash, a VF count of -1). */
export class KernelInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelInputError';
  }
}
