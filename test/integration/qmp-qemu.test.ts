import { firstValueFrom, filter } from 'rxjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectionClosedError,
  ExecuteError,
  ProtocolError,
  QmpClient,
  connectQmp,
  eventMatching,
  eventTimeMs,
  unixEndpoint,
  type ConnectionState,
} from '../../src/qmp/index.js';
import { installedQemuVersion, startQemu, waitForPciEnumeration, type RunningQemu } from '../support/qemu.js';

interface PciDevice {
  bus: number;
  slot: number;
  function: number;
  qdev_id: string;
  class_info: { class: number; desc?: string };
  pci_bridge?: { bus: { number: number }; devices?: PciDevice[] };
}
interface PciBus {
  bus: number;
  devices: PciDevice[];
}

const closed = (client: QmpClient) =>
  firstValueFrom(client.state$.pipe(filter((s): s is Extract<ConnectionState, { status: 'closed' }> => s.status === 'closed')));

function devicesBehind(buses: PciBus[], rootPort: string): PciDevice[] {
  const port = buses.flatMap((b) => b.devices).find((d) => d.qdev_id === rootPort);
  if (!port) throw new Error(`no ${rootPort} in query-pci`);
  return port.pci_bridge?.devices ?? [];
}

describe('QMP client against a real QEMU', () => {
  let qemu: RunningQemu;
  let client: QmpClient;

  beforeAll(async () => {
    qemu = await startQemu({ rootPorts: 2, qmpSockets: 2 });
    client = await connectQmp(unixEndpoint(qemu.qmpSocket));
    await waitForPciEnumeration((command) => client.execute(command));
  });
  afterAll(async () => {
    await client?.close();
    await qemu?.stop();
  });

  it("reads QEMU's greeting: the installed version and its capabilities", async () => {
    const installed = await installedQemuVersion();
    expect(client.greeting?.version).toMatchObject(installed);
    expect(client.greeting?.capabilities).toContain('oob');
    // The same version, asked for as a command once negotiation is done.
    const version = await client.execute<{ qemu: { major: number; minor: number; micro: number } }>('query-version');
    expect(version.qemu).toEqual(installed);
  });

  it('runs query-status on the running machine', async () => {
    expect(await client.execute('query-status')).toMatchObject({ status: 'running', running: true });
  });

  it('lists the empty root ports with query-pci', async () => {
    const buses = await client.execute<PciBus[]>('query-pci');
    const ids = buses.flatMap((b) => b.devices).map((d) => d.qdev_id);
    expect(ids).toEqual(expect.arrayContaining([...qemu.rootPorts]));
    for (const port of qemu.rootPorts) expect(devicesBehind(buses, port)).toEqual([]);
  });

  it('hotplugs an emulated e1000e onto a free root port, and query-pci shows it there', async () => {
    expect(await client.execute('device_add', { driver: 'e1000e', id: 'nic1', bus: 'rp1' })).toEqual({});
    const behind = devicesBehind(await client.execute<PciBus[]>('query-pci'), 'rp1');
    expect(behind.map((d) => d.qdev_id)).toEqual(['nic1']);
    expect(behind[0]?.class_info.desc).toBe('Ethernet controller');
    expect(devicesBehind(await client.execute<PciBus[]>('query-pci'), 'rp2')).toEqual([]);
  });

  it('raises a failing device_add as an ExecuteError of class GenericError, and the connection stays usable', async () => {
    const args = { driver: 'e1000e', id: 'nic-clash', bus: 'rp1', addr: '0' };
    const error = await client.execute('device_add', args).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecuteError);
    expect(error).toMatchObject({ errorClass: 'GenericError', command: 'device_add', args, endpoint: qemu.qmpSocket, hadId: true });
    expect((error as ExecuteError).desc).toMatch(/in use by e1000e,id=nic1/);
    expect(await client.execute('query-status')).toMatchObject({ running: true });
  });

  it('sees STOP and RESUME on events$ after stop and cont, with QEMU timestamps', async () => {
    const stopped = client.waitForEvent(eventMatching('STOP'), { timeoutMs: 10_000 });
    await client.execute('stop');
    const stop = await stopped;
    expect(await client.execute('query-status')).toMatchObject({ status: 'paused', running: false });
    const resumed = client.waitForEvent(eventMatching('RESUME'), { timeoutMs: 10_000 });
    await client.execute('cont');
    const resume = await resumed;
    for (const event of [stop, resume]) {
      expect(event.timestamp.seconds).toBeGreaterThan(1_600_000_000);
      expect(event.timestamp.microseconds).toBeGreaterThanOrEqual(0);
      expect(event.timestamp.microseconds).toBeLessThan(1_000_000);
    }
    expect(eventTimeMs(resume)!).toBeGreaterThanOrEqual(eventTimeMs(stop)!);
    expect(await client.execute('query-status')).toMatchObject({ status: 'running', running: true });
  });

  it('fails a command QEMU cannot parse (an error without id) and closes only that connection', async () => {
    const second = await connectQmp(unixEndpoint(qemu.qmpSockets[1]));
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 1100; i++) deep = { a: deep };
    const error = await second.execute('device_add', deep).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecuteError);
    expect(error).toMatchObject({ command: 'device_add', errorClass: 'GenericError', hadId: false });
    const state = await closed(second);
    expect(state.error).toBeInstanceOf(ProtocolError);
    // The other monitor never noticed, and a new connection to the same socket works.
    expect(await client.execute('query-status')).toMatchObject({ running: true });
    const third = await connectQmp(unixEndpoint(qemu.qmpSockets[1]));
    expect(await third.execute('query-status')).toMatchObject({ running: true });
    await third.close();
  });
});

describe('QMP client when QEMU goes away', () => {
  let qemu: RunningQemu | undefined;
  let client: QmpClient | undefined;

  afterEach(async () => {
    await client?.close();
    await qemu?.stop();
  });

  it('fails a pending command at once with the closed-connection error when QEMU is killed', async () => {
    qemu = await startQemu();
    client = await connectQmp(unixEndpoint(qemu.qmpSocket));
    // A frozen QEMU cannot answer, so the command is surely still pending when it dies. Its
    // own timeout is far beyond the test's: only the closed connection can end it.
    qemu.signal('SIGSTOP');
    const pending = client.execute('query-status', undefined, { timeoutMs: 10 * 60_000 }).catch((e: unknown) => e);
    qemu.signal('SIGKILL');
    const error = await pending;
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect((error as Error).message).toMatch(`connection to ${qemu.qmpSocket} closed while waiting for query-status: QEMU closed the connection`);
    expect(client.state).toMatchObject({ status: 'closed', willReconnect: false });
    expect((await qemu.exited).signal).toBe('SIGKILL');
  });

  it('sees SHUTDOWN after quit, then the closed state, and QEMU exits cleanly', async () => {
    qemu = await startQemu();
    client = await connectQmp(unixEndpoint(qemu.qmpSocket));
    const shutdown = client.waitForEvent(eventMatching('SHUTDOWN'), { timeoutMs: 10_000 });
    const state = closed(client);
    expect(await client.execute('quit')).toEqual({});
    expect((await shutdown).data).toMatchObject({ guest: false, reason: 'host-qmp-quit' });
    expect(await state).toMatchObject({ reason: expect.stringMatching(/^QEMU closed the connection/) as unknown, willReconnect: false });
    expect(await qemu.exited).toEqual({ code: 0, signal: null });
  });
});

describe('the QEMU test helper', () => {
  it('fails loudly, naming the package, when qemu-system-x86_64 is not installed', async () => {
    const emptyBin = await mkdtemp(join(tmpdir(), 'hotslot-no-qemu-'));
    const path = process.env.PATH;
    process.env.PATH = emptyBin;
    try {
      await expect(startQemu()).rejects.toThrow(/qemu-system-x86_64 is not installed .*qemu-system-x86/);
    } finally {
      process.env.PATH = path;
      await rm(emptyBin, { recursive: true, force: true });
    }
  });
});
