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

const N = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 5);
const WARMUP = 200;
const GOAL = 1.25;

async function startQemu() {
  const dir = await mkdtemp(join(tmpdir(), 'hotslot-bench-'));
  const socket = join(dir, 'qmp.sock');
  const args = ['-machine', 'q35', '-accel', 'tcg', '-nodefaults', '-no-user-config', '-display', 'none', '-S', '-m', '64', '-qmp', `unix:${socket},server=on,wait=off`];
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (t) => (stderr += t));
  const failed = new Promise((_, reject) => {
    child.once('error', (e) => reject(new Error(`cannot start qemu-system-x86_64: ${e.message}`)));
    child.once('exit', (code) => reject(new Error(`qemu-system-x86_64 exited (${code}): ${stderr.trim()}`)));
  });
  failed.catch(() => undefined);
  const deadline = Date.now() + 20_000;
  while (!existsSync(socket)) {
    if (Date.now() > deadline) throw new Error('QEMU did not create its QMP socket');
    await Promise.race([sleep(20), failed]);
  }
  return {
    socket,
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

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const us = (ms) => ((ms * 1000) / N).toFixed(1);

const qemu = await startQemu();
try {
  const results = { hotslot: { sequential: [], pipelined: [] }, raw: { sequential: [], pipelined: [] } };
  let version = '';
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate who goes first, so that neither always meets a warmer QEMU.
    const order = round % 2 === 0 ? ['hotslot', 'raw'] : ['raw', 'hotslot'];
    for (const who of order) {
      const conn = who === 'hotslot' ? await hotslotConnection(qemu.socket) : await rawConnection(qemu.socket);
      if (conn.greeting) version = formatQemuVersion(conn.greeting);
      await conn.sequential(WARMUP);
      results[who].sequential.push(await timed(() => conn.sequential(N)));
      results[who].pipelined.push(await timed(() => conn.pipelined(N)));
      await conn.close();
    }
  }
  const row = (kind) => {
    const [h, r] = [results.hotslot[kind], results.raw[kind]];
    const wall = [median(h.map((t) => t.wall)), median(r.map((t) => t.wall))];
    const cpu = [median(h.map((t) => t.cpu)), median(r.map((t) => t.cpu))];
    return { kind, wall, cpu, ratio: wall[0] / wall[1] };
  };
  const rows = [row('sequential'), row('pipelined')];
  console.log(`QMP query-status against qemu-system-x86_64 ${version}: N=${N}, median of ${ROUNDS} rounds, µs per command`);
  console.log('mode         hotslot   raw socket   ratio   client CPU: hotslot   raw');
  for (const { kind, wall, cpu, ratio } of rows) {
    console.log(`${kind.padEnd(12)} ${us(wall[0]).padStart(7)}   ${us(wall[1]).padStart(10)}   ${ratio.toFixed(2).padStart(4)}x  ${us(cpu[0]).padStart(19)}   ${us(cpu[1]).padStart(5)}`);
  }
  const sequential = rows[0].ratio;
  console.log(`ratio sequential: ${sequential.toFixed(2)}x`);
  if (sequential > GOAL) console.log(`(goal: at most ${GOAL.toFixed(2)}x)`);
} finally {
  await qemu.stop();
}
