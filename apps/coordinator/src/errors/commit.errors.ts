/**
 * A step's new version, staged ahead of its commit, was gone when the commit came to move it into
 * place: nothing of the move was written, and the job can compute the step again.
 */
export class StagedVersionMissingError extends Error {
  override readonly name = 'StagedVersionMissingError';
}
