#!/usr/bin/env node
// The lab scenario, run inside the lab host (a VM with an emulated Intel IOMMU) against its real
// /sys: hotslot's own CLI lists, checks, attaches, moves, detaches, refuses and recovers, with
// nested QEMU guests receiving the devices. Each step records what hotslot said, what the kernel
// shows in sysfs and what the guest sees; the summary is JSON and the exit status is non-zero
// when any step did not do what it should.
// usage: node test/lab/scenario.mjs --out DIR
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { LabGuest } from './lab-guest.mjs';

const { values: opts } = parseArgs({ options: { out: { type: 'string' }, sysfs: { type: 'string', default: '/sys' } } });
const OUT = resolve(opts.out ?? '/run/lab/out');
const SYS = opts.sysfs;
const REPO = resolve(import.meta.dirname, '../..');
const CLI = join(REPO, 'dist/cli/main.js');
const STATE = '/run/hotslot-state';
const GUESTS = '/run/lab-guests';
const KVER = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
const NESTED_BOOT_MS = Number(process.env.LAB_GUEST_BOOT_MS ?? 420_000);
mkdirSync(OUT, { recursive: true });
mkdirSync(STATE, { recursive: true });
mkdirSync(GUESTS, { recursive: true });

const t0 = Date.now();
const steps = [];
const log = (msg) => console.log(`[lab ${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

// ---------- what the kernel says, read straight from sysfs ----------
const dev = (bdf) => join(SYS, 'bus/pci/devices', bdf);
const readOr = (p, fallback = null) => {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return fallback;
  }
};
const linkName = (p) => {
  try {
    return basename(readlinkSync(p));
  } catch {
    return null;
  }
};
const kernelView = (bdf) => ({
  bdf,
  driver: linkName(join(dev(bdf), 'driver')),
  driver_override: readOr(join(dev(bdf), 'driver_override')),
  iommu_group: Number(linkName(join(dev(bdf), 'iommu_group'))),
  reset_method: readOr(join(dev(bdf), 'reset_method')),
  msi_irqs: existsSync(join(dev(bdf), 'msi_irqs')) ? readdirSync(join(dev(bdf), 'msi_irqs')).length : null,
});
const allBdfs = () => readdirSync(join(SYS, 'bus/pci/devices')).sort();
const findById = (vendor, device) =>
  allBdfs().filter((b) => readOr(join(dev(b), 'vendor')) === vendor && readOr(join(dev(b), 'device')) === device);
const groupMembers = (bdf) => readdirSync(join(dev(bdf), 'iommu_group/devices')).sort();
/** `driver_override` as the kernel shows an unset one. */
const overrideEmpty = (v) => v === null || v === '' || v === '(null)';
const homeState = () => Object.fromEntries(allBdfs().map((b) => [b, { driver: kernelView(b).driver, override: kernelView(b).driver_override }]));

// ---------- hotslot itself ----------
const guests = {};
function guestFlags() {
  return Object.values(guests).flatMap((g) => ['--guest', `${g.name}=${g.qmpPath}`]);
}
/** Runs the hotslot CLI; resolves with its exit status, output and (with --json) parsed JSON. */
function hotslot(args, { json = true, onSpawn } = {}) {
  const argv = [CLI, '--state-dir', STATE, ...guestFlags(), ...args, ...(json ? ['--json'] : [])];
  const started = Date.now();
  return new Promise((res) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    onSpawn?.(child);
    child.on('close', (code, signal) => {
      let parsed = null;
      if (json) {
        try {
          parsed = JSON.parse(stdout);
        } catch {
          parsed = null;
        }
      }
      res({ args: ['hotslot', ...args].join(' '), exit: code, signal, ms: Date.now() - started, json: parsed, stdout, stderr: stderr.trim() });
    });
  });
}
/** What to keep of a CLI run in the summary: the command, its status, and its own words. */
const said = (r) => ({
  command: r.args,
  exit: r.exit ?? r.signal,
  ms: r.ms,
  ...(r.json?.message ? { message: r.json.message } : {}),
  ...(r.json?.steps ? { steps: r.json.steps.map((s) => `${s.status} ${s.step}${s.bdf ? ` ${s.bdf}` : ''} ${s.ms}ms${s.detail ? `: ${s.detail}` : ''}`) } : {}),
  ...(r.json?.resetMethod ? { resetMethod: r.json.resetMethod } : {}),
  ...(r.json?.reasons ? { reasons: r.json.reasons.map((x) => x.code) } : {}),
  ...(r.stderr ? { stderr: r.stderr.split('\n').slice(-4).join(' | ') } : {}),
});

// ---------- steps ----------
/**
 * Runs one scenario step. `fn` receives `check(cond, what)` to record a failed expectation and
 * `note(key, value)` for what the kernel and QEMU said; a throw fails the step.
 */
async function step(name, fn) {
  const started = Date.now();
  const problems = [];
  const detail = {};
  log(`step: ${name}`);
  try {
    await fn({
      check: (cond, what) => {
        if (!cond) problems.push(what);
      },
      note: (k, v) => {
        detail[k] = v;
      },
    });
  } catch (e) {
    problems.push(`threw: ${e instanceof Error ? e.message : String(e)}`);
  }
  const s = { step: name, ok: problems.length === 0, ms: Date.now() - started, ...(problems.length ? { problems } : {}), ...detail };
  steps.push(s);
  log(`  ${s.ok ? 'ok' : 'FAILED'} (${s.ms} ms)${problems.length ? `: ${problems.join('; ')}` : ''}`);
  writeSummary(false);
  return s.ok;
}

function writeSummary(final) {
  const summary = {
    ok: final && steps.length > 0 && steps.every((s) => s.ok),
    finished: final,
    kernel: KVER,
    qemu: spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0],
    totalMs: Date.now() - t0,
    steps,
  };
  writeFileSync(join(OUT, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

// ---------- the devices of the lab host, found by their ids ----------
const one = (what, list) => {
  if (list.length === 0) throw new Error(`the lab host has no ${what}`);
  return list[0];
};
const IGB = one('igb (8086:10c9)', findById('0x8086', '0x10c9'));
const E1000E = one('e1000e (8086:10d3)', findById('0x8086', '0x10d3'));
const NVME = one('nvme (1b36:0010)', findById('0x1b36', '0x0010'));
const [E1000A, E1000B] = findById('0x8086', '0x100e');
const E1000E_ID = '0x8086:0x10d3';
const IGBVF_ID = '0x8086:0x10ca';

const bootState = homeState();

await step('vfio-pci loaded', async ({ check, note }) => {
  const r = spawnSync('modprobe', ['vfio-pci'], { encoding: 'utf8' });
  note('kernel', { modprobe: r.status, vfioPciDriver: existsSync(join(SYS, 'bus/pci/drivers/vfio-pci')) });
  check(r.status === 0, `modprobe vfio-pci exited ${r.status}: ${r.stderr}`);
});

// The nested guests boot (the slow part) while the reading steps run.
guests.guest1 = new LabGuest({ name: 'guest1', dir: GUESTS, kernel: `/boot/vmlinuz-${KVER}`, initrd: '/run/lab/guest.cpio.gz', logDir: OUT });
guests.guest2 = new LabGuest({ name: 'guest2', dir: GUESTS, kernel: `/boot/vmlinuz-${KVER}`, initrd: '/run/lab/guest.cpio.gz', logDir: OUT });
guests.bare = new LabGuest({ name: 'bare', dir: GUESTS, memMiB: 128, logDir: OUT });
await Promise.all(Object.values(guests).map((g) => g.waitForSocket()));

await step('list --json on the real kernel', async ({ check, note }) => {
  const r = await hotslot(['list', '--all']);
  check(r.exit === 0 && Array.isArray(r.json), `list exited ${r.exit}: ${r.stderr}`);
  const devices = new Map((r.json ?? []).map((d) => [d.bdf, d]));
  const mismatches = [];
  for (const bdf of allBdfs()) {
    const k = kernelView(bdf);
    const d = devices.get(bdf);
    if (!d) {
      mismatches.push(`${bdf} missing from list`);
      continue;
    }
    if (d.driver !== k.driver) mismatches.push(`${bdf} driver ${d.driver} != kernel ${k.driver}`);
    if (d.iommuGroup !== k.iommu_group) mismatches.push(`${bdf} group ${d.iommuGroup} != kernel ${k.iommu_group}`);
    if (k.reset_method !== null && d.reset.methods.join(' ') !== k.reset_method) {
      mismatches.push(`${bdf} reset ${d.reset.methods.join(' ')} != kernel ${k.reset_method}`);
    }
  }
  check(devices.size === allBdfs().length, `list has ${devices.size} functions, the kernel ${allBdfs().length}`);
  check(mismatches.length === 0, mismatches.join('; '));
  // What LAB.md reports of this kernel.
  const e = devices.get(E1000E);
  const i = devices.get(IGB);
  const n = devices.get(NVME);
  const a = devices.get(E1000A);
  check(e && !e.reset.methods.includes('flr') && e.reset.methods.includes('bus'), `e1000e reset methods ${e?.reset.methods}`);
  check(i && i.reset.methods.includes('flr') && i.sriov?.totalVFs >= 2, `igb reset ${i?.reset.methods} sriov ${JSON.stringify(i?.sriov)}`);
  check(n && n.reset.methods.includes('flr') && n.interrupts.mode === 'msix', `nvme reset ${n?.reset.methods} mode ${n?.interrupts.mode}`);
  check(i && i.interrupts.mode === 'msix', `igb interrupt mode ${i?.interrupts.mode}`);
  check(a && a.interrupts.mode === 'intx', `e1000 interrupt mode ${a?.interrupts.mode}`);
  check(e?.assignable.ok === true, `e1000e not assignable: ${JSON.stringify(e?.assignable.reasons)}`);
  check(a && a.assignable.ok === false && a.assignable.reasons.some((x) => x.code === 'group-not-viable'), `e1000 behind the bridge: ${JSON.stringify(a?.assignable)}`);
  const bridgeGroup = E1000A ? groupMembers(E1000A) : [];
  check(bridgeGroup.length === 3 && bridgeGroup.includes(E1000B), `bridge group members ${bridgeGroup.join(' ')}`);
  note('kernel', { groups: Object.fromEntries([IGB, E1000E, NVME, E1000A].map((b) => [b, groupMembers(b)])), devices: [IGB, E1000E, NVME, E1000A, E1000B].map(kernelView) });
  note('hotslot', { exit: r.exit, ms: r.ms, functions: devices.size, verdicts: Object.fromEntries([IGB, E1000E, NVME, E1000A, E1000B].map((b) => [b, devices.get(b)?.assignable.ok ? 'assignable' : devices.get(b)?.assignable.reasons.map((x) => x.code).join(',')])) });
});

await step('check explains the bridge group', async ({ check, note }) => {
  const r = await hotslot(['check', E1000A]);
  const reasons = r.json?.assignable?.reasons ?? r.json?.reasons ?? [];
  const viable = reasons.find((x) => x.code === 'group-not-viable');
  check(viable !== undefined, `no group-not-viable reason: ${r.stdout.slice(0, 300)} ${r.stderr}`);
  check(viable?.message.includes(E1000B) && viable?.message.includes('e1000'), `the reason does not name ${E1000B} and its driver: ${viable?.message}`);
  note('hotslot', said(r));
  note('reasons', reasons);
});

const canSnapshot = existsSync(join(REPO, 'dist/cli/commands/snapshot.js'));
/** `hotslot snapshot` of the lab host's real sysfs, for the fast tests (npm run lab -- --save-snapshots). */
async function snapshotStep(name, what) {
  await step(`snapshot: ${what}`, async ({ check, note }) => {
    mkdirSync(join(OUT, 'snapshots'), { recursive: true });
    const file = join(OUT, `snapshots/${name}.tar.gz`);
    const r = await hotslot(['snapshot', '-o', file, '--force'], { json: false });
    check(r.exit === 0 && existsSync(file), `snapshot exited ${r.exit}: ${r.stderr}`);
    note('hotslot', said(r));
  });
}
if (canSnapshot) await snapshotStep('lab-boot', 'the booted lab host');

await step('nested guests boot', async ({ check, note }) => {
  const [b1, b2] = await Promise.all([guests.guest1.waitReady(NESTED_BOOT_MS), guests.guest2.waitReady(NESTED_BOOT_MS)]);
  const ids = await guests.guest1.pciIds();
  check(!ids.includes(E1000E_ID), 'guest1 already sees an e1000e');
  note('qemu', { guest1BootS: b1, guest2BootS: b2, guest1Pci: ids });
});

await step('guests: discovery, ownership and free slots', async ({ check, note }) => {
  const r = await hotslot(['guests']);
  check(r.exit === 0, `guests exited ${r.exit}: ${r.stderr}`);
  const list = Array.isArray(r.json) ? r.json : (r.json?.guests ?? []);
  const names = list.map((g) => g.name).sort();
  check(['bare', 'guest1', 'guest2'].every((n) => names.includes(n)), `guests seen: ${names.join(' ')}`);
  for (const g of list) {
    check(g.connected && g.runState === 'running', `${g.name}: connected ${g.connected}, ${g.runState}`);
    check(g.freeSlots?.length === 3, `${g.name} has ${g.freeSlots?.length} free slots, not its 3 empty root ports`);
    check(g.devices?.every((d) => !d.hostBdf), `${g.name} already holds a host device`);
  }
  note('hotslot', { exit: r.exit, guests: list });
});

async function attachSeen(bdf, guest, id, { check, note }) {
  const before = kernelView(bdf);
  const r = await hotslot(['attach', bdf, guest.name, '--yes']);
  const after = kernelView(bdf);
  note('hotslot', said(r));
  check(r.exit === 0, `attach exited ${r.exit}: ${r.json?.message ?? r.stderr}`);
  check(after.driver === 'vfio-pci', `driver is ${after.driver}, not vfio-pci`);
  check(existsSync(`/dev/vfio/${after.iommu_group}`), `/dev/vfio/${after.iommu_group} is missing`);
  check(r.json?.steps?.some((s) => s.step === 'reset' && s.status === 'ok'), 'no reset step ran');
  const seen = guest.bootOs ? await guest.pollPci((ids) => ids.includes(id)) : { ok: true, ids: [] };
  check(seen.ok, `${guest.name} does not see ${id}: ${seen.ids.join(' ')}`);
  note('kernel', { before, after, devVfio: readdirSync('/dev/vfio') });
  note('qemu', { guestSees: seen.ids });
  return r;
}

async function homeAgain(bdf, want, { check, note }) {
  const k = kernelView(bdf);
  check(k.driver === want.driver, `driver is ${k.driver}, was ${want.driver} before`);
  check(overrideEmpty(k.driver_override), `driver_override is ${k.driver_override}`);
  note('kernel', k);
}

await step('attach e1000e to guest1', async (c) => {
  await attachSeen(E1000E, guests.guest1, E1000E_ID, c);
  // Ownership as the CLI reports it, read back from the guest over QMP.
  const r = await hotslot(['list', '--all']);
  const owner = (r.json ?? []).find((d) => d.bdf === E1000E)?.owner;
  c.check(owner?.kind === 'guest' && owner.guest === 'guest1', `list shows the owner as ${JSON.stringify(owner)}`);
  c.note('owner', owner);
});

await step('move e1000e to guest2', async ({ check, note }) => {
  const r = await hotslot(['move', E1000E, 'guest2', '--yes']);
  note('hotslot', said(r));
  check(r.exit === 0, `move exited ${r.exit}: ${r.json?.message ?? r.stderr}`);
  const gone = await guests.guest1.pollPci((ids) => !ids.includes(E1000E_ID));
  const seen = await guests.guest2.pollPci((ids) => ids.includes(E1000E_ID));
  check(gone.ok, 'guest1 still sees the e1000e');
  check(seen.ok, 'guest2 does not see the e1000e');
  check(kernelView(E1000E).driver === 'vfio-pci', `driver is ${kernelView(E1000E).driver} while with guest2`);
  note('qemu', { guest1: gone.ids, guest2: seen.ids });
  note('kernel', kernelView(E1000E));
});

await step('detach e1000e: home on e1000e, driver_override empty', async (c) => {
  const r = await hotslot(['detach', E1000E, '--yes']);
  c.note('hotslot', said(r));
  c.check(r.exit === 0, `detach exited ${r.exit}: ${r.json?.message ?? r.stderr}`);
  const gone = await guests.guest2.pollPci((ids) => !ids.includes(E1000E_ID));
  c.check(gone.ok, 'guest2 still sees the e1000e');
  c.note('qemu', { guest2: gone.ids });
  await homeAgain(E1000E, bootState[E1000E], c);
  c.check(bootState[E1000E].driver === 'e1000e', `the e1000e's own driver was ${bootState[E1000E].driver}`);
});

let vf = null;
await step('vfs: two VFs on the igb', async ({ check, note }) => {
  const r = await hotslot(['vfs', IGB, '2', '--yes']);
  note('hotslot', said(r));
  check(r.exit === 0, `vfs exited ${r.exit}: ${r.stderr}`);
  const vfs = readdirSync(dev(IGB)).filter((n) => n.startsWith('virtfn')).map((n) => linkName(join(dev(IGB), n)));
  check(vfs.length === 2, `the igb has ${vfs.length} VFs`);
  vf = vfs[0] ?? null;
  const views = vfs.map(kernelView);
  check(views.every((v) => v.iommu_group !== kernelView(IGB).iommu_group), 'a VF shares the PF group');
  note('kernel', { sriov_numvfs: readOr(join(dev(IGB), 'sriov_numvfs')), vfs: views });
});

if (vf) {
  const vfHome = homeState()[vf];
  await step('attach a VF to guest1', (c) => attachSeen(vf, guests.guest1, IGBVF_ID, c));
  if (canSnapshot) await snapshotStep('lab-vf-in-guest', 'a VF with a guest');
  await step('return the VF to the host', async (c) => {
    const r = await hotslot(['return', vf, '--yes']);
    c.note('hotslot', said(r));
    c.check(r.exit === 0, `return exited ${r.exit}: ${r.json?.message ?? r.stderr}`);
    const gone = await guests.guest1.pollPci((ids) => !ids.includes(IGBVF_ID));
    c.check(gone.ok, 'guest1 still sees the VF');
    await homeAgain(vf, vfHome, c);
  });
  await step('vfs: back to none', async ({ check, note }) => {
    const r = await hotslot(['vfs', IGB, '0', '--yes']);
    note('hotslot', said(r));
    check(r.exit === 0 && readOr(join(dev(IGB), 'sriov_numvfs')) === '0', `vfs 0 exited ${r.exit}, sriov_numvfs ${readOr(join(dev(IGB), 'sriov_numvfs'))}: ${r.stderr}`);
  });
}

if (E1000A && E1000B) {
  await step('refused: e1000 behind the bridge with its sibling bound', async ({ check, note }) => {
    const members = groupMembers(E1000A);
    const before = members.map(kernelView);
    const pciBefore = await guests.guest1.pciIds();
    const r = await hotslot(['attach', E1000A, 'guest1', '--yes']);
    const after = members.map(kernelView);
    note('hotslot', said(r));
    check(r.exit === 3, `attach exited ${r.exit}, not 3`);
    check((r.json?.reasons ?? []).some((x) => x.code === 'group-not-viable'), `no group-not-viable reason: ${JSON.stringify(r.json?.reasons)} ${r.stderr}`);
    check(JSON.stringify(before) === JSON.stringify(after), 'the group changed in the kernel');
    const pciAfter = await guests.guest1.pciIds();
    check(JSON.stringify(pciBefore) === JSON.stringify(pciAfter), 'guest1 changed');
    note('kernel', { before, after });
  });
}

await step('kill hotslot mid-attach, recover brings the device home', async ({ check, note }) => {
  const journal = join(STATE, 'journal.jsonl');
  const home = kernelView(NVME);
  const linesBefore = existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').length : 0;
  let killedAfter = null;
  const r = await hotslot(['attach', NVME, 'guest1', '--yes'], {
    onSpawn: (child) => {
      const poll = setInterval(() => {
        if (!existsSync(journal)) return;
        const fresh = readFileSync(journal, 'utf8').split('\n').slice(Math.max(0, linesBefore - 1)).filter(Boolean).map((l) => JSON.parse(l));
        const s = fresh.find((x) => x.kind === 'step' && /vfio/.test(x.step));
        if (s) {
          killedAfter = s.step;
          child.kill('SIGKILL');
          clearInterval(poll);
        }
      }, 20);
      child.on('close', () => clearInterval(poll));
    },
  });
  check(r.signal === 'SIGKILL', `hotslot was not killed (exit ${r.exit}); it finished first`);
  const middle = kernelView(NVME);
  const rec = await hotslot(['recover']);
  const after = kernelView(NVME);
  note('hotslot', { killedAfterStep: killedAfter, recover: said(rec), recoverResult: rec.json });
  note('kernel', { home, afterKill: middle, afterRecover: after });
  check(rec.exit === 0, `recover exited ${rec.exit}: ${rec.stderr}`);
  check(after.driver === home.driver && overrideEmpty(after.driver_override), `after recover: driver ${after.driver} override ${after.driver_override}`);
  const again = await hotslot(['recover']);
  check(again.exit === 0 && Array.isArray(again.json?.operations) && again.json.operations.length === 0, `a second recover still found work: ${JSON.stringify(again.json)}`);
  const seen = await guests.guest1.pciIds();
  check(!seen.includes('0x1b36:0x0010'), 'guest1 sees the nvme');
});

await step('a guest with no OS: detach ends stuck (exit 4)', async ({ check, note }) => {
  await attachSeen(E1000E, guests.bare, E1000E_ID, { check, note });
  const r = await hotslot(['detach', E1000E, '--yes']);
  note('hotslot', said(r));
  check(r.exit === 4, `detach exited ${r.exit}, not 4 (stuck)`);
  check(kernelView(E1000E).driver === 'vfio-pci', `after a stuck detach the driver is ${kernelView(E1000E).driver}`);
  note('kernel', kernelView(E1000E));
});

await step('after that guest is gone, detach brings the device home', async (c) => {
  guests.bare.kill();
  c.check(await guests.bare.waitExit(), 'the bare guest did not exit');
  delete guests.bare;
  const r = await hotslot(['detach', E1000E, '--yes']);
  c.note('hotslot', said(r));
  c.check(r.exit === 0, `detach exited ${r.exit}: ${r.json?.message ?? r.stderr}`);
  await homeAgain(E1000E, bootState[E1000E], c);
});

await step('every device is where it was at boot', async ({ check, note }) => {
  const now = homeState();
  const moved = Object.keys(bootState).filter((b) => JSON.stringify(bootState[b]) !== JSON.stringify(now[b] ?? null));
  check(moved.length === 0, `changed since boot: ${moved.map((b) => `${b} ${JSON.stringify(bootState[b])} -> ${JSON.stringify(now[b])}`).join('; ')}`);
  note('kernel', { functions: Object.keys(now).length });
});

for (const g of Object.values(guests)) g.kill();
await Promise.all(Object.values(guests).map((g) => g.waitExit()));
await sleep(100);
const summary = writeSummary(true);
log(`scenario ${summary.ok ? 'ok' : 'FAILED'}: ${steps.filter((s) => s.ok).length}/${steps.length} steps ok in ${(summary.totalMs / 1000).toFixed(1)} s`);
process.exit(summary.ok ? 0 : 1);
