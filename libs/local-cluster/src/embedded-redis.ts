import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { firstNodeUrl, parseRedisAddress } from '@resnet/protocol';
import { askOnce } from '@resnet/redis-blobs';
import { stopProcess } from './stop-process';

/** A port the OS just reported free; fine for a private server started right after. */
export async function freePort(): Promise<number> {
  const port = await listenOnce(0);
  if (port === null) throw new Error('the OS has no free loopback port');
  return port;
}

/** Whether `port` of loopback is free right now. */
export async function portIsFree(port: number): Promise<boolean> {
  return (await listenOnce(port)) !== null;
}

/** Listens on `port` of loopback (0: one the OS picks) and closes at once: the port, or null when taken. */
function listenOnce(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => {
      const { port: listening } = server.address() as net.AddressInfo;
      server.close(() => resolve(listening));
    });
  });
}

/** Whether the Redis at `url` answers PING; for a Redis Cluster, the first node it names. */
export async function redisAnswers(url: string): Promise<boolean> {
  return (await askOnce(firstNodeUrl(parseRedisAddress(url)), (client) => client.ping())) === 'PONG';
}

export function redisServerOnPath(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface EmbeddedRedisOptions {
  /**
   * Where its data goes.
   * @defaultValue a fresh temporary folder
   */
  readonly dir?: string;
  /**
   * More redis-server arguments, e.g. to run it as a node of a cluster.
   * @defaultValue none
   */
  readonly serverArgs?: readonly string[];
}

/**
 * A private redis-server on a free loopback port, for `npm start` when no Redis answers and for
 * tests, which must not touch a shared instance. Append-only persistence is on so that a restart
 * of this server (a fault the tests inject) keeps its data.
 */
export class EmbeddedRedis {
  private child: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    /** Its data (and, in a cluster, its nodes.conf), kept across stop() and launch(). */
    readonly dir: string,
    /** More redis-server arguments, e.g. to run it as a node of a cluster. */
    private readonly serverArgs: readonly string[],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(
    port?: number,
    { dir, serverArgs = [] }: EmbeddedRedisOptions = {},
  ): Promise<EmbeddedRedis> {
    const server = new EmbeddedRedis(
      port ?? (await freePort()),
      dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'resnet-redis-')),
      serverArgs,
    );
    await server.launch();
    return server;
  }

  async launch(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      ...this.serverArgs,
    ];
    // Its own process group: a terminal's Ctrl-C reaches the coordinator and the workers, which
    // finish their shards through this Redis, and not Redis itself, which the owner stops last.
    this.child = spawn('redis-server', args, { stdio: 'ignore', detached: true });
    const exited = new Promise<never>((_, reject) =>
      this.child!.once('exit', (code) =>
        reject(new Error(`redis-server exited with code ${code} (port ${this.port})`)),
      ),
    );
    const deadline = Date.now() + 10_000;
    while (!(await Promise.race([redisAnswers(this.url), exited]))) {
      if (Date.now() > deadline)
        throw new Error(`redis-server did not answer on port ${this.port} within 10 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops the server; SIGKILL skips the final flush, like a crash. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = null;
    await stopProcess(child, signal);
  }

  /** Deletes the server's data (its append-only file), as a disk loss would; only while stopped. */
  async wipe(): Promise<void> {
    if (this.child) throw new Error('stop the server before wiping its data');
    for (const entry of fs.readdirSync(this.dir)) {
      if (entry.startsWith('appendonly'))
        fs.rmSync(path.join(this.dir, entry), { recursive: true, force: true });
    }
  }

  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
