/** The requested compute backend or device cannot run here; the message names what is missing and the fix. */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}
