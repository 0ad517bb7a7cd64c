import { systemClock } from '../core/clock.js';
import { Journal } from '../hotplug/journal.js';
import { LiveSession, type LiveSessionOptions } from '../live/live-session.js';
import { unixEndpoint } from '../qmp/index.js';
import type { DemoLab } from './demo-lab.js';

/** A live session on the demo lab: its host, its simulated kernel, its three guests. */
export function liveSessionOn(lab: DemoLab, opts: Pick<LiveSessionOptions, 'hostPollMs' | 'guestPollMs' | 'timeouts' | 'beforeChange'> = {}): LiveSession {
  return new LiveSession({
    sources: { sysfsRoot: lab.sysfsRoot, procRoot: lab.procRoot },
    kernel: lab.kernel.port,
    journal: new Journal(lab.stateDir),
    guests: lab.guestSockets.map((g) => ({ name: g.name, endpoint: unixEndpoint(g.socket), source: 'the demo lab' })),
    clock: systemClock,
    ...opts,
  });
}
