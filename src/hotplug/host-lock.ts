import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** One writer per host: an exclusive lock file in the state dir holding the owner's pid. */
export class HostLockError extends Error {
  constructor(
    message: string,
    readonly holderPid: number | null,
  ) {
    super(message);
    this.name = 'HostLockError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface HostLock {
  release(): void;
}

export function acquireHostLock(stateDir: string): HostLock {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            unlinkSync(path);
          } catch {
            // already gone: nothing to release
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder: number | null = null;
      try {
        holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
      } catch {
        holder = null;
      }
      if (holder !== null && Number.isFinite(holder) && alive(holder)) {
        throw new HostLockError(`another hotslot (pid ${holder}) is changing devices on this host; lock ${path}`, holder);
      }
      // The holder died without releasing: the journal, not the lock, carries its unfinished work.
      try {
        unlinkSync(path);
      } catch {
        // raced with another taker; the next attempt decides
      }
    }
  }
  throw new HostLockError(`could not take the lock ${path}`, null);
}
