import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import * as tf from '@tensorflow/tfjs';
import { redact } from '@resnet/protocol';
import { startCoordinator } from './bootstrap';
import { configFromEnv } from './coordinator.config';

async function main(): Promise<void> {
  // Checkpoints build a LayersModel here; TF.js's banner suggesting tfjs-node is no news to an operator.
  tf.enableProdMode();
  const config = configFromEnv();
  const app = await startCoordinator(config);
  new Logger('Coordinator').log(
    `listening on ${await app.getUrl()} (Redis ${redact(config.redisUrl)}, prefix ${config.redisPrefix})`,
  );
}

main().catch((err: Error) => {
  console.error(`coordinator failed to start: ${err.message}`);
  process.exit(1);
});
