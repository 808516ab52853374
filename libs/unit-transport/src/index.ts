export * from './errors/unit-transport.error';
export * from './frames';
export * from './unit-messages';
export * from './unit-client';
export * from './unit-server';
