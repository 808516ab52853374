export * from './blob-connection';
