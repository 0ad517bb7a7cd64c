import type { KernelPort } from './kernel-port.js';

/**
 * The same port, with `before` called ahead of each write to sysfs (a session recording is
 * flushed to disk there, so that a crash in the write loses nothing that led up to it). Reads go
 * straight through.
 */
export function withWriteBarrier(port: KernelPort, before: () => void): KernelPort {
  return {
    kind: port.kind,
    sysfsRoot: port.sysfsRoot,
    unbind(bdf) {
      before();
      return port.unbind(bdf);
    },
    setDriverOverride(bdf, driver) {
      before();
      return port.setDriverOverride(bdf, driver);
    },
    clearDriverOverride(bdf) {
      before();
      return port.clearDriverOverride(bdf);
    },
    driversProbe(bdf) {
      before();
      return port.driversProbe(bdf);
    },
    reset(bdf, method) {
      before();
      return port.reset(bdf, method);
    },
    setNumVfs(bdf, count, opts) {
      before();
      return port.setNumVfs(bdf, count, opts);
    },
    waitForDriver: (bdf, driver, opts) => port.waitForDriver(bdf, driver, opts),
    exists: (bdf) => port.exists(bdf),
    currentDriver: (bdf) => port.currentDriver(bdf),
    driverOverride: (bdf) => port.driverOverride(bdf),
    resetMethods: (bdf) => port.resetMethods(bdf),
    iommuGroup: (bdf) => port.iommuGroup(bdf),
    sriov: (bdf) => port.sriov(bdf),
  };
}
