import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecuteError, QmpClient, connectQmp, unixEndpoint } from '../../src/qmp/index.js';
import { startMisbehavingPeer } from '../support/misbehaving-qmp-peer.js';
import { startQemu, type RunningQemu } from '../support/qemu.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface RunningCli {
  done: Promise<Run>;
  exited: boolean;
  /** What it has printed so far. */
  stdout(): string;
  kill(signal: NodeJS.Signals): void;
}

/** Runs the built CLI (`npm run build` first; the vitest globalSetup does it). */
function cli(args: string[]): RunningCli {
  const child = spawn(process.execPath, [join(repo, 'dist/cli/main.js'), ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const running: RunningCli = {
    exited: false,
    kill: (signal) => child.kill(signal),
    stdout: () => stdout,
    done: new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => {
        running.exited = true;
        resolve({ code, stdout, stderr });
      });
    }),
  };
  return running;
}

const run = (...args: string[]) => cli(args).done;

/**
 * Waits until some client holds the monitor on `socket`: QEMU's socket chardev is named
 * `disconnected:unix:...` while nobody is connected.
 */
async function untilConnected(execute: (command: string) => Promise<unknown>, socket: string, cli: RunningCli): Promise<void> {
  for (;;) {
    if (cli.exited) throw new Error(`the CLI exited before connecting: ${JSON.stringify(await cli.done)}`);
    const chardevs = (await execute('query-chardev')) as Array<{ filename: string }>;
    if (chardevs.some((c) => c.filename.startsWith(`unix:${socket},`))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('hotslot qmp against a real QEMU', () => {
  let qemu: RunningQemu;
  /** The test's own monitor; the CLI talks to the other socket. */
  let client: QmpClient;
  let socket: string;

  /** Stops and resumes the guest until `done()`; leaves it running. */
  async function toggleUntil(done: () => boolean): Promise<void> {
    while (!done()) {
      await client.execute('stop');
      await client.execute('cont');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  beforeAll(async () => {
    qemu = await startQemu({ qmpSockets: 2 });
    socket = qemu.qmpSockets[0]!;
    client = await connectQmp(unixEndpoint(qemu.qmpSockets[1]));
  });
  afterAll(async () => {
    await client?.close();
    await qemu?.stop();
  });

  it("prints the command's return value as JSON and exits 0", async () => {
    const result = await run('qmp', '--socket', socket, 'query-status');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual(await client.execute('query-status'));
  });

  it('passes JSON-ARGS to the command', async () => {
    const result = await run('qmp', '--socket', socket, 'qom-get', '{"path": "/machine/peripheral/rp1", "property": "chassis"}');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(await client.execute('qom-get', { path: '/machine/peripheral/rp1', property: 'chassis' }));
  });

  it("prints a QMP error's class and description in one line and exits 1", async () => {
    const args = { driver: 'no-such-device-model', id: 'x' };
    const expected = await client.execute('device_add', args).catch((e: unknown) => e);
    expect(expected).toBeInstanceOf(ExecuteError);
    const { errorClass, desc } = expected as ExecuteError;
    const result = await run('qmp', '--socket', socket, 'device_add', JSON.stringify(args));
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`${errorClass}: ${desc}`);
  });

  it('says in one line, with the path and the reason, that a socket cannot be reached, and exits 1', async () => {
    const missing = join(qemu.dir, 'no-such.sock');
    const result = await run('qmp', '--socket', missing, 'query-status');
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe(`hotslot: cannot connect to QMP at ${missing}: no such file or directory (ENOENT)\n`);

    const notASocket = join(qemu.dir, 'plain-file');
    await writeFile(notASocket, '');
    const refused = await run('qmp', '--socket', notASocket, 'query-status');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`hotslot: cannot connect to QMP at ${notASocket}: connection refused (nothing is listening) (ECONNREFUSED)\n`);
  });

  it.each([
    ['malformed JSON-ARGS', ['device_add', '{"driver": '], /JSON-ARGS is not valid JSON/],
    ['JSON-ARGS that is not an object', ['device_add', '["e1000e"]'], /JSON-ARGS must be a JSON object, got an array/],
    ['no command and no --events', [], /name a QMP command/],
    ['--count without --events', ['--count', '2', 'query-status'], /--count goes with --events/],
    ['a --count that is not a number', ['--events', '--count', 'many'], /--count wants a positive whole number/],
    ['a --timeout of 0', ['--timeout', '0', 'query-status'], /--timeout wants a positive whole number/],
    ['a COMMAND with --events', ['--events', 'query-status'], /--events takes no COMMAND/],
  ])('treats %s as bad usage: exit 2, one line, nothing sent', async (_name, args, message) => {
    // A listening peer that counts its clients: bad usage must not even connect.
    const peer = await startMisbehavingPeer();
    try {
      const result = await run('qmp', '--socket', peer.path, ...args);
      expect(result).toMatchObject({ code: 2, stdout: '' });
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(peer.connectionCount()).toBe(0);
    } finally {
      await peer.close();
    }
  });

  it('prints events as JSON lines and stops after --count of them', async () => {
    const events = cli(['qmp', '--socket', socket, '--events', '--count', '2']);
    // QEMU sends no events to a client that has not finished negotiating, and that moment is
    // not visible from here: keep the guest toggling until the CLI has seen two.
    await toggleUntil(() => events.exited);
    const result = await events.done;
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { event: string; timestamp: { seconds: number; microseconds: number } });
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => l.event).sort()).toEqual(['RESUME', 'STOP']);
    for (const line of lines) {
      expect(line.timestamp.seconds).toBeGreaterThan(1_600_000_000);
      expect(line.timestamp.microseconds).toBeLessThan(1_000_000);
    }
  });

  it('stops printing events on Ctrl-C and exits 0, leaving the monitor free', async () => {
    const events = cli(['qmp', '--socket', socket, '--events']);
    await untilConnected((command) => client.execute(command), socket, events);
    events.kill('SIGINT');
    expect(await events.done).toEqual({ code: 0, stdout: '', stderr: '' });
    const after = await run('qmp', '--socket', socket, 'query-status');
    expect(after.code).toBe(0);
  });
});

describe('hotslot qmp --events when QEMU quits', () => {
  let qemu: RunningQemu | undefined;
  afterAll(async () => {
    await qemu?.stop();
  });

  it('prints SHUTDOWN and exits 0 when the connection closes, over TCP too', async () => {
    qemu = await startQemu({ qmpTcp: true });
    const events = cli(['qmp', '--socket', qemu.qmpSocket, '--events']);
    // Once it has printed an event, the CLI is surely past negotiation.
    const viaTcp = async (command: string) => JSON.parse((await run('qmp', '--tcp', qemu!.qmpTcp!, command)).stdout) as unknown;
    while (events.stdout() === '' && !events.exited) {
      await viaTcp('stop');
      await viaTcp('cont');
    }
    const quit = await run('qmp', '--tcp', qemu.qmpTcp!, 'quit');
    expect(quit).toEqual({ code: 0, stdout: '{}\n', stderr: '' });
    const result = await events.done;
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { event: string; data: unknown });
    expect(lines.at(-1)).toMatchObject({ event: 'SHUTDOWN', data: { guest: false, reason: 'host-qmp-quit' } });
    expect(await qemu.exited).toEqual({ code: 0, signal: null });
  });
});

describe('hotslot qmp --timeout', () => {
  it('gives up on a socket that never greets after --timeout, in one line, exit 1', async () => {
    const peer = await startMisbehavingPeer({ greeting: null });
    try {
      const result = await run('qmp', '--socket', peer.path, '--timeout', '300', 'query-status');
      expect(result).toEqual({ code: 1, stdout: '', stderr: `hotslot: no usable QMP greeting from ${peer.path}: none arrived within 300 ms\n` });
    } finally {
      await peer.close();
    }
  });

  it('gives up on a command that gets no answer after --timeout, naming it, exit 1', async () => {
    const peer = await startMisbehavingPeer();
    try {
      const result = await run('qmp', '--socket', peer.path, '--timeout', '300', 'query-status');
      expect(result).toEqual({ code: 1, stdout: '', stderr: `hotslot: query-status on ${peer.path} got no answer within 300 ms\n` });
    } finally {
      await peer.close();
    }
  });
});
