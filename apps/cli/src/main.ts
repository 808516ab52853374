import 'reflect-metadata';
import { Command } from 'commander';
import { upCommand } from './commands/up.command';

const program = new Command('resnet-cluster').description('Distributed ResNet training: run a local cluster or talk to one');
program.addCommand(upCommand());
program.parseAsync().catch((err: Error) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
