import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerOptions } from 'pino';

/** Hides the user:password part of URLs such as redis://user:secret@host:6379. */
export function maskUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

/** Fields that hold a URL whose credentials must go, while the rest of it helps debugging. */
const URL_PATHS = ['redisUrl', 'redis', '*.redisUrl', '*.redis'];
/** Fields that are secret as a whole. */
const SECRET_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/**
 * Nest's own start-up lines (a line per module and per route) matter only when debugging the
 * wiring: they go to debug level, so that a terminal shows what the coordinator does.
 */
const NEST_START_UP_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

function isNestStartUpLine(args: unknown[]): boolean {
  const first = args[0] as { context?: unknown } | undefined;
  return typeof first?.context === 'string' && NEST_START_UP_CONTEXTS.has(first.context);
}

/** The coordinator's pino settings: its name, level, and what it must never write. */
export function coordinatorLogOptions(level: string): LoggerOptions {
  return {
    name: 'coordinator',
    level,
    redact: {
      paths: [...URL_PATHS, ...SECRET_PATHS],
      censor: (value, path) =>
        typeof value === 'string' && URL_PATHS.some((p) => p.split('.').at(-1) === path.at(-1))
          ? maskUrlCredentials(value)
          : '[Redacted]',
    },
    hooks: {
      // A URL with credentials inside a message string is beyond what redact paths can reach.
      logMethod(args, method, level) {
        const masked = args.map((a) => (typeof a === 'string' ? maskUrlCredentials(a) : a)) as Parameters<
          typeof method
        >;
        if (level === this.levels.values.info && isNestStartUpLine(masked)) {
          if (this.isLevelEnabled('debug')) this.debug(...masked);
          return;
        }
        method.apply(this, masked);
      },
    },
  };
}

/** `POST /jobs 400 in 3 ms: <why>`: what was asked, what came of it, and why it was refused. */
export function requestLine(req: IncomingMessage, res: ServerResponse, ms?: number): string {
  const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url;
  const time = ms === undefined ? '' : ` in ${Math.round(ms)} ms`;
  const reason = (res as ServerResponse & { locals?: { errorReason?: string } }).locals?.errorReason;
  return `${req.method} ${url} ${res.statusCode}${time}${reason ? `: ${reason}` : ''}`;
}
