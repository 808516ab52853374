import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { requireApiToken } from './auth/api-token.middleware';
import { CoordinatorConfig } from './coordinator.config';
import { serveDashboard } from './dashboard/dashboard-static';
import { serveOpenApi } from './openapi/openapi';

/** Builds and starts the coordinator's HTTP app; used by main.ts, the CLI's `up` and the tests. */
export async function startCoordinator(config: CoordinatorConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
    // Dashboards hold /events open; without this, close() would wait for every browser tab.
    forceCloseConnections: true,
  });
  app.useLogger(app.get(Logger));
  if (config.apiToken) app.use(requireApiToken(config.apiToken));
  app.useBodyParser('json', { limit: '64kb' });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
    }),
  );
  serveDashboard(app);
  serveOpenApi(app);
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  return app;
}
