import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { Options } from 'pino-http';
import pretty from 'pino-pretty';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';
import { coordinatorLogOptions, requestLine } from './log-options';

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
    // Requests are routine, refused ones included (their callers hear why): at debug, so that the
    // console shows training, not traffic. Only the coordinator's own failures (5xx) are errors.
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
      err || res.statusCode >= 500 ? 'error' : 'debug',
    customSuccessMessage: (req: IncomingMessage, res: ServerResponse, ms: number) =>
      requestLine(req, res, ms),
    customErrorMessage: (req: IncomingMessage, res: ServerResponse, err: Error) =>
      `${requestLine(req, res)}: ${err.message}`,
    autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.test(req.url ?? '') },
  };
}

/** Human lines for a terminal: time, level, where from, and the message (which names the job); fields only in JSON. */
function prettyDestination(): DestinationStream {
  return pretty({
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,name,context,req,res,responseTime,job,jobName,event',
    messageFormat: '{if context}[{context}] {end}{msg}',
  });
}

/**
 * Structured JSON logs (or pretty lines, see CoordinatorConfig.logFormat) through pino for Nest's own logger and for every HTTP request, with the
 * job id of /jobs/:id requests attached and secrets (auth headers, URL credentials) redacted.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [COORDINATOR_CONFIG],
      useFactory: (config: CoordinatorConfig) => ({
        pinoHttp:
          config.logFormat === 'pretty'
            ? [httpLogOptions(config), prettyDestination()]
            : httpLogOptions(config),
        forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
        // The dashboard feed is shared by every open dashboard: its logs belong to no one request.
        exclude: [{ path: 'events', method: RequestMethod.GET }],
      }),
    }),
  ],
})
export class LoggingModule {}
