import { setTimeout as sleep } from 'node:timers/promises';
import { filter, firstValueFrom, merge, pairwise, Subscription, type Observable } from 'rxjs';
import type { Clock } from '../core/clock.js';
import { createBus, type Bus } from '../core/bus.js';
import type { HotslotEvent, SessionNote } from '../core/events.js';
import type { Intent, OperationOutcome } from '../core/operations.js';
import type { GuestSpec } from '../guests/guest-specs.js';
import type { HostSources } from '../host/inventory.js';
import { watchHost } from '../host/watch-host.js';
import { errorText, HotplugInputError } from '../hotplug/errors.js';
import { HostLockError, type HostLock } from '../hotplug/host-lock.js';
import { Hotplug, type RecoveryResult, type Timeouts } from '../hotplug/hotplug.js';
import type { Journal } from '../hotplug/journal.js';
import { describeEndpoint, type QmpClient } from '../qmp/index.js';
import { withWriteBarrier, type KernelPort } from '../kernel/index.js';
import { withChangeBarrier } from '../hotplug/qmp-sender.js';
import { monitorGuest } from './guest-monitor.js';

export interface LiveSessionOptions {
  sources: HostSources;
  /** Null in read-only mode: nothing can change the host. */
  kernel: KernelPort | null;
  journal: Journal | null;
  guests: GuestSpec[];
  clock: Clock;
  hostPollMs?: number;
  guestPollMs?: number;
  /** Give a guest's devices back to the host when its QEMU exits (default on). */
  returnOnExit?: boolean;
  /** Count each device's interrupts every host poll, for the dashboard's rates (default on). */
  countInterrupts?: boolean;
  timeouts?: Partial<Timeouts>;
  /**
   * Called ahead of every sysfs write and every QMP command that may change a guest: the session
   * recorder flushes to disk there.
   */
  beforeChange?: () => void;
  /**
   * Takes the host's one-writer lock (throws HostLockError while another hotslot holds it); each
   * operation holds it while it runs, so that CLI commands in between are not refused.
   */
  lockHost?: () => HostLock;
  /** How long an operation waits for another hotslot to release the host lock. Default 30 s. */
  lockWaitMs?: number;
}

/**
 * The dashboard's world: host changes and guests' events flow into one bus; the operator's
 * intents are carried out by the hotplug layer, whose steps flow into the same bus.
 */
export class LiveSession {
  readonly bus: Bus;
  private readonly subs = new Subscription();
  private readonly hotplug: Hotplug | null;
  private readonly sources$: Observable<HotslotEvent>;
  private readonly traffic$: Observable<SessionNote>;
  private readonly clients: QmpClient[];
  private queue: Promise<void> = Promise.resolve();
  private closing = false;

  constructor(private readonly opts: LiveSessionOptions) {
    this.bus = createBus();
    const monitors = opts.guests.map((spec) => ({ spec, ...monitorGuest(spec, opts.clock, { pollMs: opts.guestPollMs }) }));
    this.clients = monitors.map((m) => m.client);
    this.sources$ = merge(watchHost(opts.sources, { intervalMs: opts.hostPollMs ?? 1_000, clock: opts.clock, countInterrupts: opts.countInterrupts ?? true }), ...monitors.map((m) => m.events$));
    this.traffic$ = merge(...monitors.map((m) => m.traffic$));
    const before = opts.beforeChange;
    this.hotplug =
      opts.kernel === null
        ? null
        : new Hotplug({
            kernel: before ? withWriteBarrier(opts.kernel, before) : opts.kernel,
            journal: opts.journal,
            clock: opts.clock,
            emit: (e) => this.bus.emit(e),
            host: opts.sources,
            guests: monitors.map((m) => ({ name: m.spec.name, socket: describeEndpoint(m.spec.endpoint), qmp: before ? withChangeBarrier(m.client, before) : m.client })),
            dryRun: false,
            ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
          });
  }

  start(): void {
    // Subscribed first, so that the greeting and the first commands are in the recording.
    this.subs.add(this.traffic$.subscribe((n) => this.bus.note(n)));
    this.subs.add(
      this.sources$.subscribe({
        next: (e) => this.bus.emit(e),
        error: (err: unknown) => this.bus.emit({ type: 'op.finished', at: this.opts.clock.now(), opId: 'host-watch', outcome: 'failed', message: `reading the host failed: ${errorText(err)}` }),
      }),
    );
    if ((this.opts.returnOnExit ?? true) && this.hotplug) {
      const hp = this.hotplug;
      // When a guest's QEMU goes away, what it held (as the state last showed it) comes home.
      this.subs.add(
        this.bus.state$.pipe(pairwise()).subscribe(([before, after]) => {
          for (const [name, g] of Object.entries(before.guests)) {
            if (!g.connected || after.guests[name]?.connected) continue;
            for (const d of g.devices) if (d.hostBdf) this.enqueue(() => hp.return(d.hostBdf!).then(() => undefined));
          }
        }),
      );
    }
  }

  stop(): void {
    this.subs.unsubscribe();
    this.bus.close();
  }

  /** Takes no new operation, lets the running one finish, then stops (QMP connections closed). */
  async close(): Promise<void> {
    this.closing = true;
    await this.queue;
    this.stop();
  }

  /**
   * Resolves once every guest's first connection attempt has ended, connected or not: until then
   * a guest's devices are unknown, and `recover` would take them for the host's.
   */
  async firstContact(): Promise<void> {
    await Promise.all(this.clients.map((c) => firstValueFrom(c.state$.pipe(filter((s) => s.status === 'ready' || s.status === 'closed')))));
  }

  /**
   * Runs the journal's recovery as one operation on the bus (started, then finished with what
   * was done to each device); resolves with its results, empty in read-only mode.
   */
  recover(): Promise<RecoveryResult[]> {
    const hp = this.hotplug;
    if (!hp) return Promise.resolve([]);
    return new Promise((resolve) => {
      const queued = this.enqueue(async () => {
        const opId = `recover-${this.opts.clock.wallNow()}`;
        const bdfs = [...new Set((this.opts.journal?.open() ?? []).flatMap((o) => o.intent.devices.map((d) => d.bdf)))];
        this.bus.emit({ type: 'op.started', at: this.opts.clock.now(), opId, op: 'recover', bdfs });
        const finished = (outcome: OperationOutcome, message: string) => this.bus.emit({ type: 'op.finished', at: this.opts.clock.now(), opId, outcome, message });
        try {
          const results = await hp.recover();
          const messages = results.flatMap((r) => r.devices.map((d) => d.message));
          if (results.length === 0) finished('done', 'nothing to recover: every journalled operation had finished');
          else finished(results.every((r) => r.ok) ? 'done' : 'stuck', messages.join('; '));
          resolve(results);
        } catch (err) {
          finished('failed', `recover: ${errorText(err)}`);
          resolve([]);
        }
      });
      if (!queued) resolve([]);
    });
  }

  /** Queues `job` behind the running operation; false when the session is closing. */
  private enqueue(job: () => Promise<void>): boolean {
    if (this.closing) {
      this.bus.emit({ type: 'op.finished', at: this.opts.clock.now(), opId: `closing-${this.opts.clock.now()}`, outcome: 'refused', message: 'hotslot is stopping: no new operation starts' });
      return false;
    }
    this.queue = this.queue
      .then(() => this.withHostLock(job))
      .catch((err: unknown) => {
        const outcome = err instanceof HostLockError ? 'refused' : 'failed';
        this.bus.emit({ type: 'op.finished', at: this.opts.clock.now(), opId: `error-${this.opts.clock.now()}`, outcome, message: errorText(err) });
      });
    return true;
  }

  /** Runs `job` holding the host lock, waiting (up to lockWaitMs) while another hotslot has it. */
  private async withHostLock(job: () => Promise<void>): Promise<void> {
    if (!this.opts.lockHost) return job();
    const waitMs = this.opts.lockWaitMs ?? 30_000;
    let lock: HostLock | null = null;
    for (let waited = 0; lock === null; waited += 200) {
      try {
        lock = this.opts.lockHost();
      } catch (err) {
        if (!(err instanceof HostLockError) || waited >= waitMs) throw err;
        await sleep(200);
      }
    }
    try {
      await job();
    } finally {
      lock.release();
    }
  }

  /** Carries out what the operator asked, one operation at a time, never blocking the caller. */
  sendIntent(intent: Intent): void {
    this.bus.note({ type: 'operator.intent', at: this.opts.clock.now(), intent });
    const hp = this.hotplug;
    if (!hp) {
      this.bus.emit({ type: 'op.finished', at: this.opts.clock.now(), opId: `read-only-${this.opts.clock.now()}`, outcome: 'refused', message: 'read-only: no change is made' });
      return;
    }
    if (intent.kind === 'recover') {
      void this.recover();
      return;
    }
    this.enqueue(async () => {
      try {
        switch (intent.kind) {
          case 'attach':
            await hp.attach(intent.bdf, intent.guest, { group: intent.group ?? false });
            break;
          case 'detach':
          case 'retry':
            await hp.detach(intent.bdf);
            break;
          case 'move':
            await hp.move(intent.bdf, intent.guest);
            break;
          case 'return':
            await hp.return(intent.bdf);
            break;
          case 'force-return':
            await hp.return(intent.bdf).catch((err: unknown) => {
              if (!(err instanceof HotplugInputError)) throw err;
            });
            break;
        }
      } catch (err) {
        // Input errors (a device that vanished, a guest that went away) end the operation plainly.
        this.bus.emit({ type: 'op.finished', at: this.opts.clock.now(), opId: `intent-${this.opts.clock.now()}`, outcome: 'failed', message: errorText(err) });
      }
    });
  }
}
