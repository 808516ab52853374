/** Hides the user:password part of URLs such as redis://user:secret@host:6379. */
export function maskUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

/** Fields that hold a URL whose credentials must go, while the rest of it helps debugging. */
const URL_PATHS = ['redisUrl', 'redis', '*.redisUrl', '*.redis'];
/** Fields that are secret as a whole. */
const SECRET_PATHS = ['req.headers.authorization', 'req.headers["proxy-authorization"]', 'req.headers.cookie', 'res.headers["set-cookie"]'];

export const REDACT = {
  paths: [...URL_PATHS, ...SECRET_PATHS],
  censor: (value: unknown, path: string[]): unknown =>
    typeof value === 'string' && URL_PATHS.some((p) => p.split('.').at(-1) === path.at(-1)) ? maskUrlCredentials(value) : '[Redacted]',
};
