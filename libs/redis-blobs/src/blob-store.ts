import { ReusableBuffer } from '@resnet/protocol';

/**
 * Big values in Redis (weights versions, gradient messages), moved without copies: BlobConnection
 * on one Redis, ClusterBlobStore on a Redis Cluster. Commands wait out a lost connection.
 */
export interface BlobStore {
  /** The value, or null when the key does not exist; a value is read into `into`, which it stays in until taken again. */
  get(key: string, into: ReusableBuffer): Promise<Buffer | null>;
  /** Stores `value`, which must stay unchanged until this resolves: it is sent from where it lies. */
  set(key: string, value: Buffer, ttlSeconds?: number): Promise<void>;
  /** Closes every connection, failing what is still pending. */
  close(): void;
}
