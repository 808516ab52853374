export * from './ask-once';
export * from './blob-connection';
export * from './blob-store';
export * from './cluster-blob-store';
export * from './errors/blob-connection-closed.error';
export * from './errors/redis-reply.error';
