import 'reflect-metadata';
import { Command } from 'commander';
import { jobActionCommand } from './commands/job-action.command';
import { evaluateCommand } from './commands/evaluate.command';
import { predictCommand } from './commands/predict.command';
import { statusCommand } from './commands/status.command';
import { submitCommand } from './commands/submit.command';
import { upCommand } from './commands/up.command';
import { workersCommand } from './commands/workers.command';

const program = new Command('resnet-cluster').description(
  'Distributed ResNet training: run a local cluster or talk to one',
);
program.addCommand(upCommand());
program.addCommand(submitCommand());
program.addCommand(statusCommand());
program.addCommand(jobActionCommand('cancel'));
program.addCommand(jobActionCommand('pause'));
program.addCommand(jobActionCommand('resume'));
program.addCommand(workersCommand());
program.addCommand(predictCommand());
program.addCommand(evaluateCommand());
program.parseAsync().catch((err: Error) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
