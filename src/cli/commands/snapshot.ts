import type { Command } from 'commander';
import { globalOptions, printJson } from '../context.js';
import { CliError, ExitCode, failure, usageError } from '../exit-codes.js';
import { VERSION } from '../version.js';

interface SnapshotCliOptions {
  output?: string;
  force?: boolean;
  json?: boolean;
}

export function registerSnapshot(program: Command): void {
  program
    .command('snapshot')
    .description('save the parts of /sys and /proc that hotslot reads as a .tar.gz, to run any reading command on later')
    .option('-o, --output <file>', 'the tarball to write (default: hotslot-snapshot-HOST-DATE.tar.gz here)')
    .option('--force', 'replace FILE if it exists')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
It only reads: symlinks are kept as they are, write-only attributes become empty files with their
mode, BAR and ROM files are recorded empty, never read. oracle/ holds a manifest and, when lspci is
installed, what \`lspci -D -nn -k\`, \`-vvv\` and \`-xxxx\` said at the same moment. Read it back with
  tar -xzf FILE -C DIR && hotslot --sysfs-root DIR/sys --proc-root DIR/proc list
Exit status 0 written; 2 the file exists (without --force), -o names a directory, or a root is not
a sysfs / proc tree; 1 the file could not be written. Nothing is left behind on failure.`,
    )
    .action(async (opts: SnapshotCliOptions, cmd: Command) => {
      const g = globalOptions(cmd);
      // Loaded on use: tar-stream and zlib serve this command only.
      const { takeSnapshot, SnapshotInputError, OutputError } = await import('../../snapshot/take-snapshot.js');
      let summary;
      try {
        summary = await takeSnapshot({ sysfsRoot: g.sysfsRoot, procRoot: g.procRoot, output: opts.output, force: opts.force, version: VERSION });
      } catch (err) {
        if (err instanceof SnapshotInputError) throw usageError(err.message);
        if (err instanceof OutputError) throw err.problem === 'not-writable' ? failure(err.message) : usageError(err.message);
        if (err instanceof Error && 'code' in err) throw new CliError(`snapshot not written: ${err.message}`, ExitCode.failed);
        throw err;
      }
      for (const w of summary.warnings) process.stderr.write(`hotslot: warning: ${w}\n`);
      if (opts.json) {
        printJson(summary);
        return;
      }
      const notes = Object.entries(summary.notes)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ');
      process.stdout.write(
        `${summary.file}: ${summary.files} files, ${summary.links} links, ${summary.dirs} dirs, ${summary.bytes} bytes` +
          ` (${summary.tarballBytes} compressed)${notes ? `; ${notes}` : ''}${summary.lspci ? '' : '; no lspci oracle (lspci not installed)'}\n`,
      );
    });
}
