/**
 * The real kernel's port: writes go to the files under the sysfs root (`/sys` on a host), one
 * write(2) each, and the kernel's errno comes back as a KernelError sentence.
 *
 * Never point it at this machine's /sys in tests: they use the simulator, the dry-run port, or
 * this port on a plain temporary directory, where a write just writes the file.
 */
import type { DryRunKernelPort, KernelPort, SysfsWrite } from './kernel-port.js';
import { RecordingIo, realIo } from './sysfs-io.js';
import { SysfsKernelPort, type PortOptions } from './sysfs-kernel-port.js';

export function openRealKernel(sysfsRoot: string, opts: PortOptions = {}): KernelPort {
  return new SysfsKernelPort('real', sysfsRoot, realIo, opts);
}

class DryRunPort extends SysfsKernelPort implements DryRunKernelPort {
  declare readonly kind: 'dry-run';

  constructor(
    sysfsRoot: string,
    private readonly recorder: RecordingIo,
    opts: PortOptions,
  ) {
    super('dry-run', sysfsRoot, recorder, opts);
  }

  describeWrites(): SysfsWrite[] {
    return this.recorder.writes.map((w) => ({ ...w }));
  }

  /** Nothing was written, so nothing will bind: a dry run assumes the wait would succeed. */
  override async waitForDriver(bdf: string, _driver: string | null): Promise<void> {
    await this.device(bdf, 'waitForDriver');
  }
}

/**
 * A port that reads the tree as it is and records, in order, every write it would make (path and
 * exact value) without making any: what `--dry-run` prints.
 */
export function openDryRunKernel(sysfsRoot: string, opts: PortOptions = {}): DryRunKernelPort {
  return new DryRunPort(sysfsRoot, new RecordingIo(), opts);
}
