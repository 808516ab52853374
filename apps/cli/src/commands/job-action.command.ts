import { Command } from 'commander';
import {
  apiTokenOption,
  CoordinatorClient,
  CoordinatorOptions,
  coordinatorUrlOption,
  JobAction,
} from '../coordinator-client';

const DESCRIPTIONS: Record<JobAction, string> = {
  cancel: 'Stop a queued, running or paused job for good',
  pause: 'Pause a running job after its last committed step',
  resume: 'Resume a paused job from its last committed step',
};

/** `cancel <id>`, `pause <id>` and `resume <id>`. */
export function jobActionCommand(action: JobAction): Command {
  return new Command(action)
    .description(DESCRIPTIONS[action])
    .argument('<id>', 'job id')
    .addOption(coordinatorUrlOption())
    .addOption(apiTokenOption())
    .action(async (id: string, opts: CoordinatorOptions) => {
      const job = await new CoordinatorClient(opts).act(id, action);
      console.log(`job ${job.id} (${job.name}) is ${job.status} at step ${job.step}/${job.totalSteps}`);
    });
}
