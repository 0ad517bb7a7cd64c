import type { Command } from 'commander';

// Placeholder until the command lands; replaced by its owner.
export function registerList(program: Command): void {
  program.command('list').description('(not yet built)');
}
