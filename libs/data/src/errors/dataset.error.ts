/**
 * A problem with the data a user pointed us at (missing folder, unrecognised layout, truncated
 * or undecodable file, impossible batch plan). The message names the path, what is wrong and how
 * to fix it, so the CLI can print it as-is without a stack trace.
 */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
