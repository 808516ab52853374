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
      logMethod(args, method) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? maskUrlCredentials(a) : a)) as Parameters<typeof method>,
        );
      },
    },
  };
}
