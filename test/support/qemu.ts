import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Starts a real qemu-system-x86_64 for tests: a q35 machine under TCG with no devices but a few
 * empty pcie-root-ports (rp1, rp2, ...), no disk and no kernel. It runs its firmware (SeaBIOS),
 * which numbers the buses behind the root ports within a moment and then idles: until then
 * query-pci cannot show what is plugged behind a root port (see waitForPciEnumeration).
 * A missing QEMU fails the test loudly; it is never a reason to skip.
 */
export interface QemuOptions {
  /** Empty pcie-root-ports, with ids rp1..rpN. Default 2. */
  rootPorts?: number;
  /** QMP unix sockets (each a separate monitor, so a test can hold one and a CLI another). Default 1. */
  qmpSockets?: number;
  /** Also listen for QMP on a free TCP port on 127.0.0.1. */
  qmpTcp?: boolean;
  /** Start held before the first instruction (-S): no CPU used, but buses stay unnumbered. Default false. */
  paused?: boolean;
  memoryMb?: number;
  extraArgs?: string[];
  /** How long to wait for the sockets to appear. Default 20 s. */
  startTimeoutMs?: number;
}

export interface QemuExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningQemu {
  readonly pid: number;
  /** A private temp dir under os.tmpdir(), removed by stop(). */
  readonly dir: string;
  /** The first QMP socket. */
  readonly qmpSocket: string;
  readonly qmpSockets: readonly string[];
  /** `127.0.0.1:PORT` when started with qmpTcp. */
  readonly qmpTcp: string | null;
  readonly rootPorts: readonly string[];
  readonly exited: Promise<QemuExit>;
  readonly hasExited: boolean;
  /** QEMU's stderr so far (the last 64 KiB). */
  stderr(): string;
  /** Sends a signal (SIGSTOP to freeze it, SIGKILL to kill it, ...). */
  signal(signal: NodeJS.Signals): void;
  /** Ends QEMU (SIGTERM, then SIGKILL after 3 s) and removes its temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

export const QEMU_BINARY = 'qemu-system-x86_64';

const running = new Set<ChildProcess>();

// Last line of defence: a test process that dies without its afterAll leaves no QEMU behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startQemu(options: QemuOptions = {}): Promise<RunningQemu> {
  if ((options.qmpSockets ?? 1) < 1) throw new Error('startQemu needs at least one QMP unix socket');
  const rootPorts = Array.from({ length: options.rootPorts ?? 2 }, (_, i) => `rp${i + 1}`);
  const dir = await mkdtemp(join(tmpdir(), 'hotslot-qemu-'));
  const qmpSockets = Array.from({ length: options.qmpSockets ?? 1 }, (_, i) => join(dir, `qmp${i}.sock`));
  const qmpTcp = options.qmpTcp ? `127.0.0.1:${await freePort()}` : null;
  const args = [
    '-machine', 'q35',
    '-accel', 'tcg',
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    '-m', String(options.memoryMb ?? 64),
    '-name', `hotslot-test-${process.pid}`,
    ...(options.paused ? ['-S'] : []),
    // QEMU opens chardevs in command-line order: once the unix sockets exist, the TCP one listens.
    ...(qmpTcp ? ['-qmp', `tcp:${qmpTcp},server=on,wait=off`] : []),
    ...qmpSockets.flatMap((path) => ['-qmp', `unix:${path},server=on,wait=off`]),
    ...rootPorts.flatMap((id, i) => ['-device', `pcie-root-port,id=${id},bus=pcie.0,chassis=${i + 1},addr=0x${(0x10 + i).toString(16)}`]),
    ...(options.extraArgs ?? []),
  ];

  const child = spawn(QEMU_BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-65536);
  });
  let hasExited = false;
  const exited = new Promise<QemuExit>((resolve) => {
    child.once('exit', (code, signal) => {
      hasExited = true;
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const spawnError = new Promise<Error>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      hasExited = true;
      running.delete(child);
      resolve(
        error.code === 'ENOENT'
          ? new Error(`${QEMU_BINARY} is not installed or not on PATH: install the Debian package qemu-system-x86 (npm test runs scripts/ensure-test-packages.mjs)`)
          : error,
      );
    });
  });

  let stopping: Promise<void> | null = null;
  const qemu: RunningQemu = {
    get pid() {
      return child.pid ?? -1;
    },
    dir,
    qmpSocket: qmpSockets[0] ?? '',
    qmpSockets,
    qmpTcp,
    rootPorts,
    exited,
    get hasExited() {
      return hasExited;
    },
    stderr: () => stderr,
    signal(signal) {
      if (!hasExited) child.kill(signal);
    },
    stop() {
      stopping ??= (async () => {
        if (!hasExited) {
          child.kill('SIGCONT');
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
          await Promise.race([exited, spawnError]);
          clearTimeout(killer);
        }
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };

  const ready = waitFor(() => qmpSockets.every((path) => existsSync(path)), options.startTimeoutMs ?? 20_000);
  const outcome = await Promise.race([
    ready.then((ok) => (ok ? null : new Error(`${QEMU_BINARY} did not create its QMP sockets within ${options.startTimeoutMs ?? 20_000} ms`))),
    exited.then((exit) => new Error(`${QEMU_BINARY} exited at start (${exit.signal ?? `code ${exit.code}`}): ${stderr.trim() || '(no output)'}`)),
    spawnError,
  ]);
  if (outcome) {
    await qemu.stop();
    throw outcome;
  }
  return qemu;
}


/** The version `qemu-system-x86_64 --version` reports, to compare with the QMP greeting. */
export async function installedQemuVersion(): Promise<{ major: number; minor: number; micro: number }> {
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(QEMU_BINARY, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (text += t));
    child.once('error', reject);
    child.once('exit', () => resolve(text));
  });
  const match = /version (\d+)\.(\d+)\.(\d+)/.exec(output);
  if (!match) throw new Error(`cannot read the version from ${QEMU_BINARY} --version: ${output}`);
  return { major: Number(match[1]), minor: Number(match[2]), micro: Number(match[3]) };
}

/**
 * Waits until the firmware has numbered the bus behind every root port, so that query-pci lists
 * the devices plugged there. `execute` runs one QMP command (any client will do).
 */
export async function waitForPciEnumeration(execute: (command: string) => Promise<unknown>, timeoutMs = 20_000): Promise<void> {
  interface Bridge {
    qdev_id: string;
    class_info: { class: number };
    pci_bridge?: { bus: { secondary: number } };
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const buses = (await execute('query-pci')) as Array<{ devices: Bridge[] }>;
    const rootPorts = buses.flatMap((b) => b.devices).filter((d) => d.pci_bridge !== undefined);
    if (rootPorts.every((d) => d.pci_bridge!.bus.secondary !== 0)) return;
    if (Date.now() >= deadline) throw new Error(`the firmware did not number the buses behind the root ports within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
