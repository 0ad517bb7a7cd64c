// A nested guest inside the lab host: a real QEMU whose QMP socket hotslot is given, booted with
// the lab kernel and a busybox initramfs whose agent runs shell commands read from the serial
// console. `bootOs: false` starts one with no OS at all: nothing in it acknowledges an unplug.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

let answerSeq = 0;

// Emulated twice over, the guest's timer check can fail or hang: a VM's usual boot options.
const BOOT_ARGS = 'console=ttyS0 quiet panic=-1 no_timer_check tsc=reliable mitigations=off nokaslr';

export class LabGuest {
  /** @type {import('node:child_process').ChildProcess} */
  proc;
  serial = '';
  exited = false;

  /**
   * @param {{ name: string, dir: string, kernel?: string, initrd?: string, memMiB?: number, logDir: string }} o
   */
  constructor(o) {
    this.name = o.name;
    this.qmpPath = `${o.dir}/${o.name}.qmp`;
    this.bootOs = Boolean(o.kernel);
    const args = [
      '-name', o.name,
      '-accel', 'tcg', '-cpu', 'max', '-smp', '1', '-m', String(o.memMiB ?? 256),
      '-machine', 'q35', '-nodefaults', '-display', 'none', '-no-reboot',
      '-qmp', `unix:${this.qmpPath},server=on,wait=off`,
      // Three empty hotplug slots, as an operator's guest would have.
      '-device', 'pcie-root-port,id=hp1,bus=pcie.0,chassis=1,slot=1,addr=0x10',
      '-device', 'pcie-root-port,id=hp2,bus=pcie.0,chassis=2,slot=2,addr=0x11',
      '-device', 'pcie-root-port,id=hp3,bus=pcie.0,chassis=3,slot=3,addr=0x12',
    ];
    if (o.kernel && o.initrd) {
      args.push('-kernel', o.kernel, '-initrd', o.initrd, '-append', BOOT_ARGS, '-serial', 'stdio');
    } else {
      args.push('-serial', 'none');
    }
    const log = createWriteStream(`${o.logDir}/guest-${o.name}-serial.log`);
    this.proc = spawn('qemu-system-x86_64', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout?.on('data', (b) => {
      this.serial += b.toString('utf8');
      log.write(b);
    });
    this.proc.stderr?.on('data', (b) => log.write(b));
    this.proc.on('exit', (code, signal) => {
      this.exited = true;
      this.exitStatus = signal ?? code;
      log.end();
    });
  }

  async waitForSocket(timeoutMs = 30_000) {
    const end = Date.now() + timeoutMs;
    while (!existsSync(this.qmpPath)) {
      if (this.exited) throw new Error(`guest ${this.name}: QEMU exited (${this.exitStatus}) before its QMP socket appeared`);
      if (Date.now() > end) throw new Error(`guest ${this.name}: no QMP socket after ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** Resolves with the boot time the guest printed, once its agent is ready. */
  async waitReady(timeoutMs) {
    const m = await this.waitForSerial(/GUEST-READY uptime=([\d.]+)/, 0, timeoutMs);
    return Number(m[1]);
  }

  async waitForSerial(re, from, timeoutMs) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.serial.slice(from));
      if (m) return m;
      if (this.exited) throw new Error(`guest ${this.name}: QEMU exited (${this.exitStatus})`);
      if (Date.now() > end) throw new Error(`guest ${this.name}: no ${re} on the serial console after ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** Runs a shell command in the guest and returns what it printed on one line. */
  async sh(command, timeoutMs = 30_000) {
    const id = ++answerSeq;
    const from = this.serial.length;
    // The console echoes the command line: the answer's tag is assembled by printf so that the
    // echo never matches it.
    this.proc.stdin?.write(`printf 'ANS%s %s\\n' ${id} "$(${command})"\n`);
    // Only a whole line: the serial output arrives in pieces, and half an answer is a wrong one.
    const m = await this.waitForSerial(new RegExp(`ANS${id} ([^\\r\\n]*)\\r?\\n`), from, timeoutMs);
    return m[1];
  }

  /** The guest kernel's own view: `vendor:device` of every PCI function it enumerated. */
  async pciIds() {
    const line = await this.sh(`for d in /sys/bus/pci/devices/*; do printf '%s ' "$(cat $d/vendor):$(cat $d/device)"; done`);
    return line.match(/0x[0-9a-f]{4}:0x[0-9a-f]{4}/g) ?? [];
  }

  /** Polls the guest until `want(ids)` holds; returns the last reading and whether it held. */
  async pollPci(want, timeoutMs = 30_000) {
    const end = Date.now() + timeoutMs;
    let ids = [];
    for (;;) {
      ids = await this.pciIds();
      if (want(ids)) return { ok: true, ids };
      if (Date.now() > end) return { ok: false, ids };
      await sleep(1000);
    }
  }

  kill() {
    if (!this.exited) this.proc.kill('SIGKILL');
  }

  async waitExit(timeoutMs = 10_000) {
    const end = Date.now() + timeoutMs;
    while (!this.exited && Date.now() < end) await sleep(100);
    return this.exited;
  }
}
