#!/usr/bin/env node
// QMP round trips against one real QEMU: hotslot's client versus a minimal raw-socket loop that
// does only what any client must (write a line, split the reply lines, JSON.parse them).
// Sequential (one command at a time) and pipelined (all sent at once). Run `npm run build` first.
// Usage: node bench/qmp.mjs [N] [ROUNDS]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { QmpClient, unixEndpoint, formatQemuVersion } from '../dist/qmp/index.js';
import { median } from './stats.mjs';

const N = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 9);
const WARMUP = 200;
const GOAL = 1.25;

async function startQemu() {
  const dir = await mkdtemp(join(tmpdir(), 'hotslot-bench-'));
  // One monitor each for hotslot and the raw loop, so both stay connected for all rounds.
  const sockets = [join(dir, 'hotslot.sock'), join(dir, 'raw.sock')];
  const args = ['-machine', 'q35', '-accel', 'tcg', '-nodefaults', '-no-user-config', '-display', 'none', '-S', '-m', '64'];
  for (const socket of sockets) args.push('-qmp', `unix:${socket},server=on,wait=off`);
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (t) => (stderr += t));
  const failed = new Promise((_, reject) => {
    child.once('error', (e) => reject(new Error(`cannot start qemu-system-x86_64: ${e.message}`)));
    child.once('exit', (code) => reject(new Error(`qemu-system-x86_64 exited (${code}): ${stderr.trim()}`)));
  });
  failed.catch(() => undefined);
  const deadline = Date.now() + 20_000;
  while (!sockets.every((socket) => existsSync(socket))) {
    if (Date.now() > deadline) throw new Error('QEMU did not create its QMP socket');
    await Promise.race([sleep(20), failed]);
  }
  return {
    sockets,
    async stop() {
      child.removeAllListeners('exit');
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The floor: one socket, a string buffer, split on newlines, JSON.parse, match the id. */
async function rawConnection(path) {
  const socket = connect({ path });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let buffer = '';
  let onMessage = () => undefined;
  socket.setEncoding('utf8');
  socket.on('data', (text) => {
    buffer += text;
    let end;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      onMessage(JSON.parse(line));
    }
  });
  const next = () => new Promise((resolve) => (onMessage = resolve));
  await next(); // greeting
  socket.write('{"execute":"qmp_capabilities","id":0}\n');
  await next();
  return {
    sequential(n) {
      return new Promise((resolve) => {
        let id = 0;
        onMessage = (message) => {
          if (message.id !== id) throw new Error(`raw loop: reply ${message.id} for ${id}`);
          if (++id === n) resolve();
          else socket.write(`{"execute":"query-status","id":${id}}\n`);
        };
        socket.write(`{"execute":"query-status","id":${id}}\n`);
      });
    },
    pipelined(n) {
      return new Promise((resolve) => {
        let seen = 0;
        onMessage = () => {
          if (++seen === n) resolve();
        };
        let text = '';
        for (let id = 0; id < n; id++) text += `{"execute":"query-status","id":${id}}\n`;
        socket.write(text);
      });
    },
    close: () => new Promise((resolve) => socket.end(resolve)),
  };
}

async function hotslotConnection(path) {
  const client = new QmpClient(unixEndpoint(path));
  const greeting = await client.connect();
  return {
    greeting,
    async sequential(n) {
      for (let i = 0; i < n; i++) await client.execute('query-status');
    },
    async pipelined(n) {
      await Promise.all(Array.from({ length: n }, () => client.execute('query-status')));
    },
    close: () => client.close(),
  };
}

/** Wall time, and this process's CPU time (user + system), in ms. */
async function timed(fn) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await fn();
  const used = process.cpuUsage(cpu);
  return { wall: performance.now() - start, cpu: (used.user + used.system) / 1000 };
}

const us = (ms) => ((ms * 1000) / N).toFixed(1);

const qemu = await startQemu();
try {
  const conns = { hotslot: await hotslotConnection(qemu.sockets[0]), raw: await rawConnection(qemu.sockets[1]) };
  const version = formatQemuVersion(conns.hotslot.greeting);
  for (const conn of Object.values(conns)) await conn.sequential(WARMUP);
  const results = { sequential: [], pipelined: [] };
  for (let round = 0; round < ROUNDS; round++) {
    // Back to back in each round, alternating who goes first, so that load from elsewhere on
    // the machine hits both alike; the ratio is the median of the rounds' ratios.
    const order = round % 2 === 0 ? ['hotslot', 'raw'] : ['raw', 'hotslot'];
    for (const kind of ['sequential', 'pipelined']) {
      const t = {};
      for (const who of order) t[who] = await timed(() => conns[who][kind](N));
      results[kind].push(t);
    }
  }
  for (const conn of Object.values(conns)) await conn.close();

  console.log(`QMP query-status against qemu-system-x86_64 ${version}: N=${N}, ${ROUNDS} rounds, medians, µs per command`);
  console.log('mode         hotslot   raw socket   ratio   client CPU: hotslot   raw');
  const ratios = {};
  for (const kind of ['sequential', 'pipelined']) {
    const rounds = results[kind];
    const m = (who, what) => median(rounds.map((t) => t[who][what]));
    ratios[kind] = median(rounds.map((t) => t.hotslot.wall / t.raw.wall));
    console.log(
      `${kind.padEnd(12)} ${us(m('hotslot', 'wall')).padStart(7)}   ${us(m('raw', 'wall')).padStart(10)}   ${ratios[kind].toFixed(2).padStart(4)}x  ${us(m('hotslot', 'cpu')).padStart(19)}   ${us(m('raw', 'cpu')).padStart(5)}`,
    );
  }
  console.log(`ratio sequential: ${ratios.sequential.toFixed(2)}x`);
  if (ratios.sequential > GOAL) console.log(`(goal: at most ${GOAL.toFixed(2)}x)`);
} finally {
  await qemu.stop();
}
