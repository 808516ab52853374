import { ArgumentsHost, Catch, HttpException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Response } from 'express';

/** Where a refused request's reason waits for the request log line (see requestLogMessage). */
export function recordErrorReason(res: Response, reason: string): void {
  res.locals.errorReason = reason;
}

/** Errors of Express's middleware (the JSON body parser's) that carry a 4xx meant for the caller. */
interface ClientHttpError {
  readonly status: number;
  readonly expose: true;
  readonly message: string;
}

function isClientHttpError(error: unknown): error is ClientHttpError {
  const e = error as Partial<ClientHttpError> | null;
  return typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && e.expose === true;
}

/**
 * Answers HTTP exceptions as Nest does, and first records their message for the request's log
 * line: a 4xx otherwise logs only its status. The body parser's refusals (malformed JSON, too
 * large) are 4xx too, not failures of the coordinator to log with a stack.
 */
@Catch()
export class HttpErrorReasonFilter extends BaseExceptionFilter {
  override catch(error: unknown, host: ArgumentsHost): void {
    const exception = isClientHttpError(error) ? new HttpException(error.message, error.status) : error;
    if (!(exception instanceof HttpException)) {
      super.catch(exception, host);
      return;
    }
    const body = exception.getResponse();
    const message = typeof body === 'string' ? body : (body as { message?: unknown }).message;
    recordErrorReason(
      host.switchToHttp().getResponse<Response>(),
      Array.isArray(message) ? message.join('; ') : String(message ?? exception.message),
    );
    super.catch(exception, host);
  }
}
