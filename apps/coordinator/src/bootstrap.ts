import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { BodyDepthPipe } from './body-depth.pipe';
import { JSON_BODY_LIMIT } from './bootstrap-limits';
import { requireApiToken } from './auth/api-token.middleware';
import { configFromEnv, CoordinatorConfig } from './coordinator.config';
import { serveDashboard } from './dashboard/dashboard-static';
import { HttpErrorReasonFilter } from './logging/http-error-reason.filter';
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
  app.useGlobalFilters(new HttpErrorReasonFilter(app.getHttpAdapter()));
  if (config.apiToken) app.use(requireApiToken(config.apiToken));
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT });
  app.useGlobalPipes(
    new BodyDepthPipe(),
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
    }),
  );
  serveDashboard(app, config.modelsDir);
  serveOpenApi(app, Boolean(config.apiToken));
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  return app;
}

/** A coordinator started in this process, with its URL. */
export interface InProcessCoordinator {
  readonly app: INestApplication;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The coordinator in this process, configured from `env` over this process's environment, on a
 * free loopback port unless `env` names one: how tests and benchmarks start a LocalCluster's.
 */
export async function startCoordinatorFromEnv(env: NodeJS.ProcessEnv): Promise<InProcessCoordinator> {
  const app = await startCoordinator(configFromEnv({ ...process.env, PORT: '0', HOST: '127.0.0.1', ...env }));
  return { app, url: await app.getUrl(), close: () => app.close() };
}
