/** Where the coordinator listens unless told otherwise (PORT, HOST): loopback, so nothing is exposed by default. */
export const DEFAULT_COORDINATOR_PORT = 3000;
export const DEFAULT_COORDINATOR_HOST = '127.0.0.1';
