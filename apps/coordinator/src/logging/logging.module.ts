import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Options } from 'pino-http';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';
import { maskUrlCredentials, REDACT } from './log-redaction';

/** Scraped, probed or polled often, or long-lived: logging each would drown the rest. */
const QUIET_PATHS = /^\/(metrics|health|events|queues|docs|vendor)(\/|\?|$)|^\/[^/]*\.(js|css|png|ico|svg|map)$|^\/(\?|$)/;
const JOB_IN_PATH = /^\/jobs\/([^/?]+)/;

function httpLogOptions(config: CoordinatorConfig): Options {
  return {
    name: 'coordinator',
    level: config.logLevel ?? 'info',
    redact: REDACT,
    hooks: {
      // A URL with credentials inside a message string is beyond what redact paths can reach.
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? maskUrlCredentials(a) : a)) as Parameters<typeof method>);
      },
    },
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
