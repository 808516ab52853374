import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const READ_ONLY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

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
    res.status(401).json({
      statusCode: 401,
      message: 'this coordinator requires an API token: send "Authorization: Bearer <API_TOKEN>"',
    });
  };
}
