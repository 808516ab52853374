import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Options } from 'pino-http';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';
import { coordinatorLogOptions } from './log-options';

/**
 * Scraped, probed or polled often: logging each request would drown the rest. (The dashboard's
 * static files are served before this logger, and /events is excluded from it below.)
 */
const QUIET_PATHS = /^\/(metrics|health|queues|docs)(\/|\?|$)/;
const JOB_IN_PATH = /^\/jobs\/([^/?]+)/;

function httpLogOptions(config: CoordinatorConfig): Options {
  return {
    ...coordinatorLogOptions(config.logLevel ?? 'info'),
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && given.length <= 100 ? given : randomUUID();
    },
    customProps: (req: IncomingMessage) => {
      const job = JOB_IN_PATH.exec(req.url ?? '')?.[1];
      return job ? { job } : {};
    },
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.test(req.url ?? '') },
  };
}

/**
 * Structured JSON logs through pino for Nest's own logger and for every HTTP request, with the
 * job id of /jobs/:id requests attached and secrets (auth headers, URL credentials) redacted.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [COORDINATOR_CONFIG],
      useFactory: (config: CoordinatorConfig) => ({
        pinoHttp: httpLogOptions(config),
        forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
        // The dashboard feed is shared by every open dashboard: its logs belong to no one request.
        exclude: [{ path: 'events', method: RequestMethod.GET }],
      }),
    }),
  ],
})
export class LoggingModule {}
