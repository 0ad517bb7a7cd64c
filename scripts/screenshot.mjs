#!/usr/bin/env node
// Makes docs/screenshot.png from the real screen: the dashboard runs in a pseudo-terminal
// (node-pty), its output goes through xterm.js's parser (@xterm/headless), and the cells
// (characters, colours, bold) are drawn as an SVG, which librsvg's rsvg-convert (or else
// ImageMagick) turns into a PNG. Needs `npm run build`, DejaVu Sans Mono, and
// `apt-get install librsvg2-bin` (ImageMagick's own SVG renderer draws text poorly).
// Usage: node scripts/screenshot.mjs [OUT.png|OUT.svg] [COLSxROWS]
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout } from 'node:timers';
import { fileURLToPath, URL } from 'node:url';
import { promisify } from 'node:util';
import xtermHeadless from '@xterm/headless';
import pty from 'node-pty';

const { Terminal } = xtermHeadless;
const repo = fileURLToPath(new URL('..', import.meta.url));
const out = process.argv[2] ?? join(repo, 'docs', 'screenshot.png');
// Wide enough for the two-column layout (from 140 columns).
const [cols, rows] = (process.argv[3] ?? '160x44').split('x').map(Number);
const labTarball = process.env.HOTSLOT_LAB_SYSFS ? join(process.env.HOTSLOT_LAB_SYSFS, 'boot.tar.gz') : join(repo, '..', 'shared', 'corpus', 'lab-sysfs', 'boot.tar.gz');

/** The first program on PATH named `name` whose `versionFlag` output matches `says`. */
function findTool(names, versionFlag, says) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of names) {
      const file = join(dir, name);
      try {
        if (says.test(execFileSync(file, [versionFlag], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))) return file;
      } catch {
        // not there, or not the real thing
      }
    }
  }
  return null;
}

/** SVG to PNG: rsvg-convert if there is one, else ImageMagick (a stand-in `convert` does not count). */
function svgToPng(svgFile, pngFile) {
  const rsvg = findTool(['rsvg-convert'], '--version', /rsvg-convert version/);
  if (rsvg) return execFileSync(rsvg, [svgFile, '-o', pngFile]);
  const magick = findTool(['magick', 'convert'], '-version', /Version: ImageMagick/);
  if (magick) return execFileSync(magick, ['-density', '96', svgFile, pngFile]);
  throw new Error('writing the PNG needs rsvg-convert (apt-get install librsvg2-bin) or ImageMagick');
}

// xterm's 16 colours (as xterm draws them), then the 6x6x6 cube and the grey ramp.
const BASE16 = ['#000000', '#cd0000', '#00cd00', '#cdcd00', '#0000ee', '#cd00cd', '#00cdcd', '#e5e5e5', '#7f7f7f', '#ff0000', '#00ff00', '#ffff00', '#5c5cff', '#ff00ff', '#00ffff', '#ffffff'];
const palette = (n) => {
  if (n < 16) return BASE16[n];
  if (n < 232) {
    const c = n - 16;
    const v = (x) => (x === 0 ? 0 : 55 + x * 40).toString(16).padStart(2, '0');
    return `#${v(Math.floor(c / 36))}${v(Math.floor(c / 6) % 6)}${v(c % 6)}`;
  }
  const g = (8 + (n - 232) * 10).toString(16).padStart(2, '0');
  return `#${g}${g}${g}`;
};
const DEFAULT_FG = '#d8d8d8';
const DEFAULT_BG = '#101418';

function colour(cell, fg) {
  const mode = fg ? cell.getFgColorMode() : cell.getBgColorMode();
  const value = fg ? cell.getFgColor() : cell.getBgColor();
  if ((fg ? cell.isFgDefault() : cell.isBgDefault()) || mode === 0) return fg ? DEFAULT_FG : DEFAULT_BG;
  if (fg ? cell.isFgRGB() : cell.isBgRGB()) return `#${value.toString(16).padStart(6, '0')}`;
  return palette(value);
}

const escapeXml = (s) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]);

function toSvg(terminal) {
  const cw = 9;
  const ch = 18;
  const pad = 12;
  const parts = [];
  const buf = terminal.buffer.active;
  for (let y = 0; y < rows; y++) {
    const line = buf.getLine(buf.viewportY + y);
    for (let x = 0; x < cols; x++) {
      const cell = line?.getCell(x);
      if (!cell) continue;
      let fg = colour(cell, true);
      let bg = colour(cell, false);
      if (cell.isInverse()) [fg, bg] = [bg === DEFAULT_BG ? DEFAULT_BG : bg, fg];
      const px = pad + x * cw;
      const py = pad + y * ch;
      if (bg !== DEFAULT_BG) parts.push(`<rect x="${px}" y="${py}" width="${cw + 0.5}" height="${ch + 0.5}" fill="${bg}"/>`);
      const text = cell.getChars();
      if (text && text !== ' ') {
        const weight = cell.isBold() ? ' font-weight="bold"' : '';
        parts.push(`<text x="${px}" y="${py + 14}" fill="${fg}"${weight}>${escapeXml(text)}</text>`);
      }
      if (cell.isUnderline()) parts.push(`<rect x="${px}" y="${py + ch - 2}" width="${cw}" height="1" fill="${fg}"/>`);
    }
  }
  const width = pad * 2 + cols * cw;
  const height = pad * 2 + rows * ch;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans Mono" font-size="15">
<rect width="100%" height="100%" fill="${DEFAULT_BG}"/>
${parts.join('\n')}
</svg>
`;
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const work = mkdtempSync(join(tmpdir(), 'hotslot-screenshot-'));
try {
  await promisify(execFile)('tar', ['-xzf', labTarball, '-C', work]);
  const terminal = new Terminal({ cols, rows, allowProposedApi: true });
  const child = pty.spawn(process.execPath, [join(repo, 'scripts', 'screenshot-scene.mjs'), join(work, 'sys'), join(work, 'proc')], {
    name: 'xterm-256color',
    cols,
    rows,
    cwd: repo,
    env: { ...process.env, TERM: 'xterm-256color' },
  });
  let output = '';
  child.onData((d) => {
    output += d;
    terminal.write(d);
  });
  const exited = new Promise((resolve) => child.onExit(resolve));
  const screenText = () => {
    const buf = terminal.buffer.active;
    return Array.from({ length: rows }, (_, y) => buf.getLine(buf.viewportY + y)?.translateToString() ?? '').join('\n');
  };
  for (let i = 0; i < 100 && !screenText().includes('Devices 16'); i++) await pause(100);
  if (!screenText().includes('Devices 16')) throw new Error(`the dashboard did not come up:\n${output.slice(-2000)}`);
  // Select the NIC that is moving (the 12th row), so the details and the chart are about it.
  for (let i = 0; i < 11; i++) {
    child.write('j');
    await pause(40);
  }
  await pause(600);
  const svg = toSvg(terminal);
  child.kill('SIGTERM');
  await exited;
  if (out.endsWith('.svg')) writeFileSync(out, svg);
  else {
    const svgFile = join(work, 'screen.svg');
    writeFileSync(svgFile, svg);
    svgToPng(svgFile, out);
  }
  console.log(`wrote ${out} (${cols}x${rows})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
