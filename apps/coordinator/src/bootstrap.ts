import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { CoordinatorConfig } from './coordinator.config';

/** Builds and starts the coordinator's HTTP app; used by main.ts, the CLI's `up` and the tests. */
export async function startCoordinator(config: CoordinatorConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger: ['log', 'warn', 'error'],
    bodyParser: false,
  });
  app.useBodyParser('json', { limit: '64kb' });
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false }),
  );
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  return app;
}
