import { existsSync, readFileSync, readlinkSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { basename, join } from 'node:path';
import split2 from 'split2';
import { isBdf } from '../pci/bdf.js';

/**
 * A QEMU stand-in that speaks QMP over a real unix socket, for the demo lab and for faults real
 * QEMU cannot be made to show on demand: a guest that never lets go of a device, a slow unplug.
 * vfio-pci devices are checked against a (simulated) sysfs tree the way QEMU checks the real one:
 * the host function must exist and be bound to vfio-pci.
 */
export interface SimulatedGuestOptions {
  name: string;
  socketPath: string;
  /** The sysfs root whose devices `device_add vfio-pci` may take. */
  sysfsRoot: string;
  /** Empty pcie-root-ports the guest starts with (ids hp1..hpN). */
  rootPorts?: number;
  /** Delay between `device_del` and DEVICE_DELETED; the guest OS's unplug handling. */
  unplugDelayMs?: number;
  /** A guest whose OS never acknowledges an unplug: no DEVICE_DELETED, the device stays. */
  neverReleases?: boolean;
  /** Delay before `device_add` answers (a slow vfio open). */
  addDelayMs?: number;
  memoryBytes?: number;
}

interface Port {
  id: string;
  slot: number;
  secondaryBus: number;
  device: { id: string; host: string; vendor: number; device: number; classCode: number; unplugging: boolean } | null;
}

type Reply = { return: unknown } | { error: { class: string; desc: string } };

/**
 * What a misbehaving QEMU does with one command: answer with an error, never answer, hang up,
 * or (for device_add) say yes without the device ever appearing.
 */
export type GuestFault = 'error' | 'no-answer' | 'hang-up' | 'never-appears';
export type GuestFaultHook = (command: string) => GuestFault | undefined;

/** A QMP argument as text; anything that is not a string counts as missing. */
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

const readHex = (path: string) => {
  try {
    return Number.parseInt(readFileSync(path, 'utf8').trim(), 16);
  } catch {
    return 0;
  }
};

export class SimulatedGuest {
  private server: Server | null = null;
  private readonly clients = new Set<Socket>();
  private readonly ports: Port[] = [];
  private runState = 'running';
  private readonly timers = new Set<NodeJS.Timeout>();
  private faultHook: GuestFaultHook | undefined;

  /** Makes commands misbehave (fault injection for tests); undefined restores good behaviour. */
  setFaultHook(hook: GuestFaultHook | undefined): void {
    this.faultHook = hook;
  }

  constructor(readonly opts: SimulatedGuestOptions) {
    const n = opts.rootPorts ?? 2;
    for (let i = 0; i < n; i++) this.ports.push({ id: `hp${i + 1}`, slot: 16 + i, secondaryBus: i + 1, device: null });
  }

  async start(): Promise<void> {
    if (existsSync(this.opts.socketPath)) unlinkSync(this.opts.socketPath);
    this.server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.opts.socketPath, () => resolve());
    });
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const c of this.clients) c.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  /** Host BDFs this guest holds. */
  held(): string[] {
    return this.ports.flatMap((p) => (p.device ? [p.device.host] : []));
  }

  private accept(socket: Socket): void {
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => socket.destroy());
    let negotiated = false;
    const send = (m: unknown) => {
      if (!socket.destroyed) socket.write(JSON.stringify(m) + '\r\n');
    };
    send({ QMP: { version: { qemu: { major: 10, minor: 0, micro: 0 }, package: 'hotslot simulated guest' }, capabilities: ['oob'] } });
    socket.pipe(split2({ maxLength: 1 << 20 })).on('data', (line: string) => {
      let msg: { execute?: unknown; arguments?: Record<string, unknown>; id?: unknown };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        send({ error: { class: 'GenericError', desc: 'JSON parse error' } });
        return;
      }
      const id = msg.id !== undefined ? { id: msg.id } : {};
      if (typeof msg.execute !== 'string') {
        send({ error: { class: 'GenericError', desc: "QMP input lacks member 'execute'" }, ...id });
        return;
      }
      if (!negotiated && msg.execute !== 'qmp_capabilities') {
        send({ error: { class: 'CommandNotFound', desc: "Expecting capabilities negotiation with 'qmp_capabilities'" }, ...id });
        return;
      }
      if (msg.execute === 'qmp_capabilities') negotiated = true;
      const fault = this.faultHook?.(msg.execute);
      if (fault === 'no-answer') return;
      if (fault === 'hang-up') {
        socket.destroy();
        return;
      }
      if (fault === 'error') {
        send({ error: { class: 'GenericError', desc: `simulated failure of ${msg.execute}` }, ...id });
        return;
      }
      const reply = fault === 'never-appears' ? { return: {} } : this.run(msg.execute, msg.arguments ?? {});
      const delay = msg.execute === 'device_add' ? (this.opts.addDelayMs ?? 0) : 0;
      if (delay > 0) {
        const t = setTimeout(() => {
          this.timers.delete(t);
          send({ ...reply, ...id });
        }, delay);
        this.timers.add(t);
      } else send({ ...reply, ...id });
    });
  }

  private broadcast(event: string, data: Record<string, unknown>): void {
    const now = Date.now();
    const m = JSON.stringify({ event, data, timestamp: { seconds: Math.floor(now / 1000), microseconds: (now % 1000) * 1000 } }) + '\r\n';
    for (const c of this.clients) if (!c.destroyed) c.write(m);
  }

  private error(desc: string, cls = 'GenericError'): Reply {
    return { error: { class: cls, desc } };
  }

  private run(command: string, args: Record<string, unknown>): Reply {
    switch (command) {
      case 'qmp_capabilities':
        return { return: {} };
      case 'query-status':
        return { return: { status: this.runState, running: this.runState === 'running', singlestep: false } };
      case 'query-name':
        return { return: { name: this.opts.name } };
      case 'query-version':
        return { return: { qemu: { major: 10, minor: 0, micro: 0 }, package: 'hotslot simulated guest' } };
      case 'query-memory-size-summary':
        return { return: { 'base-memory': this.opts.memoryBytes ?? 1 << 30, 'plugged-memory': 0 } };
      case 'stop':
        this.runState = 'paused';
        this.broadcast('STOP', {});
        return { return: {} };
      case 'cont':
        this.runState = 'running';
        this.broadcast('RESUME', {});
        return { return: {} };
      case 'query-pci':
        return { return: this.queryPci() };
      case 'qom-get':
        return this.qomGet(text(args.path), text(args.property));
      case 'device_add':
        return this.deviceAdd(args);
      case 'device_del':
        return this.deviceDel(text(args.id));
      case 'quit':
        this.broadcast('SHUTDOWN', { guest: false, reason: 'host-qmp-quit' });
        setImmediate(() => void this.stop());
        return { return: {} };
      default:
        return this.error(`The command ${command} has not been found`, 'CommandNotFound');
    }
  }

  private queryPci(): unknown {
    const host = { bus: 0, slot: 0, function: 0, class_info: { class: 0x0600, desc: 'Host bridge' }, id: { vendor: 0x8086, device: 0x29c0 }, qdev_id: '', regions: [] };
    const ports = this.ports.map((p) => ({
      bus: 0,
      slot: p.slot,
      function: 0,
      class_info: { class: 0x0604, desc: 'PCI bridge' },
      id: { vendor: 0x1b36, device: 0x000c },
      qdev_id: p.id,
      regions: [],
      pci_bridge: {
        bus: { number: p.secondaryBus, secondary: p.secondaryBus, subordinate: p.secondaryBus },
        devices: p.device
          ? [
              {
                bus: p.secondaryBus,
                slot: 0,
                function: 0,
                class_info: { class: p.device.classCode >> 8 },
                id: { vendor: p.device.vendor, device: p.device.device },
                qdev_id: p.device.id,
                regions: [],
              },
            ]
          : [],
      },
    }));
    return [{ bus: 0, devices: [host, ...ports] }];
  }

  private find(id: string): Port | undefined {
    return this.ports.find((p) => p.device?.id === id);
  }

  private qomGet(path: string, property: string): Reply {
    const m = /^\/machine\/peripheral\/(.+)$/.exec(path);
    const port = m ? this.find(m[1]) : undefined;
    const rp = m ? this.ports.find((p) => p.id === m[1]) : undefined;
    if (!port && !rp) return this.error(`Device '${path}' not found`, 'DeviceNotFound');
    if (property === 'type') return { return: port ? 'vfio-pci' : 'pcie-root-port' };
    if (property === 'host' && port) return { return: port.device!.host };
    return this.error(`Property '${property}' not found`);
  }

  private deviceAdd(args: Record<string, unknown>): Reply {
    const driver = text(args.driver);
    const id = text(args.id);
    const bus = text(args.bus);
    if (driver !== 'vfio-pci') return this.error(`'${driver}' is not a valid device model name`);
    if (!id) return this.error('Parameter \'id\' is missing');
    if (this.find(id) || this.ports.some((p) => p.id === id)) return this.error(`Duplicate device ID '${id}' for device`);
    const port = this.ports.find((p) => p.id === bus);
    if (!port) return this.error(`Bus '${bus}' not found`);
    if (port.device) return this.error(`Bus '${bus}' does not support hotplugging`);
    const host = text(args.host).toLowerCase();
    const dev = join(this.opts.sysfsRoot, 'bus', 'pci', 'devices', host);
    if (!isBdf(host) || !existsSync(dev)) {
      return this.error(`vfio ${host}: no such host device: No such file or directory`);
    }
    let driverName: string | null = null;
    let group: string | null = null;
    try {
      driverName = basename(readlinkSync(join(dev, 'driver')));
    } catch {
      driverName = null;
    }
    try {
      group = basename(readlinkSync(join(dev, 'iommu_group')));
    } catch {
      group = null;
    }
    if (group === null) return this.error(`vfio ${host}: no iommu_group found: No such file or directory`);
    if (driverName !== 'vfio-pci') return this.error(`vfio ${host}: group ${group} is not viable`);
    if (this.ports.some((p) => p.device?.host === host)) return this.error(`vfio ${host}: device is already attached`);
    port.device = {
      id,
      host,
      vendor: readHex(join(dev, 'vendor')),
      device: readHex(join(dev, 'device')),
      classCode: readHex(join(dev, 'class')),
      unplugging: false,
    };
    return { return: {} };
  }

  private deviceDel(id: string): Reply {
    const port = this.find(id);
    if (!port) return this.error(`Device '${id}' not found`, 'DeviceNotFound');
    if (port.device!.unplugging) return this.error(`Device ${id} is already in the process of unplug`);
    port.device!.unplugging = true;
    if (this.opts.neverReleases) return { return: {} };
    const t = setTimeout(() => {
      this.timers.delete(t);
      port.device = null;
      this.broadcast('DEVICE_DELETED', { device: id, path: `/machine/peripheral/${id}` });
    }, this.opts.unplugDelayMs ?? 80);
    this.timers.add(t);
    return { return: {} };
  }
}
