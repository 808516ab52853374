export * from './blob-connection';
export * from './errors/redis-reply.error';
