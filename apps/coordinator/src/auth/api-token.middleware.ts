import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { recordErrorReason } from '../logging/http-error-reason.filter';

/** Methods that change nothing: open to all, token or not. */
export const READ_ONLY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * With API_TOKEN set, every request that changes something (REST calls and the dashboard's
 * actions) needs `Authorization: Bearer <token>`. Digests of equal length are
 * compared in constant time, so response timing does not reveal how much of a guess was right.
 */
export function requireApiToken(token: string) {
  const expected = digest(token);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (READ_ONLY_METHODS.has(req.method)) return next();
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    if (given && timingSafeEqual(digest(given), expected)) return next();
    const message = given
      ? 'the API token is wrong: send "Authorization: Bearer <API_TOKEN>" with this coordinator\'s token'
      : 'this coordinator requires an API token: send "Authorization: Bearer <API_TOKEN>"';
    recordErrorReason(res, message);
    res.status(401).json({ statusCode: 401, message });
  };
}
