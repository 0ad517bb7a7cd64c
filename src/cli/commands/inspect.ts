import type { Command } from 'commander';

// Placeholder until the command lands; replaced by its owner.
export function registerInspect(program: Command): void {
  program.command('inspect').description('(not yet built)');
}
