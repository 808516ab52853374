/** A command on a blob connection that was closed (by its owner) before Redis answered it. */
export class BlobConnectionClosedError extends Error {
  override readonly name = 'BlobConnectionClosedError';
}
