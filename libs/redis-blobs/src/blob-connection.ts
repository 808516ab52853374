import * as net from 'node:net';
import * as tls from 'node:tls';
import { ReusableBuffer } from '@resnet/protocol';
import { BlobStore } from './blob-store';
import { BlobConnectionClosedError } from './errors/blob-connection-closed.error';
import { RedisReplyError } from './errors/redis-reply.error';

/** Socket reads land in one buffer of this size, reused for every read. */
const READ_BUFFER_BYTES = 256 * 1024;
const MAX_RECONNECT_DELAY_MS = 2000;

type Reply = Buffer | string | number | null;
type Part = string | Buffer;

interface PendingCommand {
  readonly frame: readonly Part[];
  /** Where the value of a bulk reply goes; without it the value is copied into a buffer of its own. */
  readonly into?: ReusableBuffer;
  /** AUTH or SELECT, which belong to one connection and are not sent again on the next. */
  readonly handshake?: boolean;
  resolve(reply: Reply): void;
  reject(err: Error): void;
}

export interface BlobConnectionOptions {
  /**
   * Called each time the connection is lost (and again after each failed reconnect), before it
   * reconnects: ClusterBlobStore rereads the slot map then, in case the master was replaced.
   * @defaultValue none
   */
  readonly onLost?: () => void;
}

/**
 * A connection to Redis for big values: weights versions and gradient messages, hundreds of
 * megabytes each for a big model. ioredis copies every value it sends into a fresh buffer, and
 * gathers every value it receives from fresh socket chunks into another; for such values that costs
 * copies, page faults and garbage collections in proportion to the traffic. This connection speaks
 * just enough of the Redis protocol (RESP2) for GET and SET (and ASKING, for ClusterBlobStore): it
 * sends a value as the caller's own bytes, and reads the socket into one fixed buffer, copying a
 * value once, into memory the caller reuses. Like the ioredis clients here, commands wait out a lost
 * connection (and a restarted Redis still loading its data): it reconnects with backoff and sends
 * again whatever was not answered (GET and SET can safely run twice).
 */
export class BlobConnection implements BlobStore {
  private socket: net.Socket | null = null;
  /** Connected (and, over TLS, past the handshake): commands are written as they come. */
  private ready = false;
  /** Commands not answered yet, oldest first; on a fresh connection the handshake goes first. */
  private readonly pending: PendingCommand[] = [];
  private closed = false;
  private failures = 0;
  // Reply parser state: the header line read so far, or the bulk value being filled.
  private header = '';
  private bulk: { readonly value: Buffer; filled: number } | null = null;
  private skip = 0;

  private constructor(
    private readonly url: URL,
    private readonly options: BlobConnectionOptions,
  ) {}

  /** `url`: redis:// or rediss://, with user, password and database number as ioredis takes them. */
  static open(url: string, options: BlobConnectionOptions = {}): BlobConnection {
    const connection = new BlobConnection(new URL(url), options);
    connection.connect();
    return connection;
  }

  /** The value, or null when the key does not exist; a value is read into `into`, which it stays in until taken again. */
  async get(key: string, into: ReusableBuffer): Promise<Buffer | null> {
    return (await this.send(['GET', key], into)) as Buffer | null;
  }

  /** Stores `value`, which must stay unchanged until this resolves: it is sent from where it lies. */
  async set(key: string, value: Buffer, ttlSeconds?: number): Promise<void> {
    await this.send(
      ttlSeconds === undefined ? ['SET', key, value] : ['SET', key, value, 'EX', String(ttlSeconds)],
    );
  }

  /**
   * ASKING, for a Redis Cluster node that is importing a slot: the command sent right after it (and
   * only that one) is served there although the slot is still another node's.
   */
  async asking(): Promise<void> {
    await this.send(['ASKING']);
  }

  close(): void {
    this.fail(new BlobConnectionClosedError('the blob connection to Redis was closed'));
  }

  private send(args: readonly Part[], into?: ReusableBuffer): Promise<Reply> {
    if (this.closed)
      return Promise.reject(new BlobConnectionClosedError('the blob connection to Redis is closed'));
    return new Promise<Reply>((resolve, reject) => {
      const command = { frame: frame(args), into, resolve, reject };
      this.pending.push(command);
      if (this.ready) this.write([command]);
    });
  }

  private connect(): void {
    const { hostname, port, protocol } = this.url;
    const onread = {
      buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
      callback: (n: number, buf: Uint8Array): boolean => {
        this.consume(buf, n);
        return true; // keep reading
      },
    };
    const address = {
      host: hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
      port: Number(port || 6379),
      onread,
    };
    const socket =
      protocol === 'rediss:'
        ? tls.connect({ ...address, servername: net.isIP(address.host) ? undefined : address.host })
        : net.connect(address);
    this.socket = socket;
    socket.setNoDelay(true);
    socket.once(protocol === 'rediss:' ? 'secureConnect' : 'connect', () => {
      this.ready = true;
      this.failures = 0;
      this.pending.unshift(...this.handshake());
      this.write(this.pending);
    });
    socket.on('error', () => undefined); // followed by 'close', which reconnects
    socket.once('close', () => this.lost(socket));
  }

  /** AUTH and SELECT as the URL asks; a refusal is final, as retrying cannot fix it. */
  private handshake(): PendingCommand[] {
    const user = decodeURIComponent(this.url.username);
    const password = decodeURIComponent(this.url.password);
    const db = Number(this.url.pathname.slice(1) || 0);
    const commands: Part[][] = [];
    if (password) commands.push(user ? ['AUTH', user, password] : ['AUTH', password]);
    if (db) commands.push(['SELECT', String(db)]);
    return commands.map((args) => ({
      frame: frame(args),
      handshake: true,
      resolve: () => undefined,
      reject: (err: Error) => this.fail(err),
    }));
  }

  /** Ends the connection for good, failing what is still pending. */
  private fail(err: Error): void {
    this.closed = true;
    this.socket?.destroy();
    for (const command of this.pending.splice(0)) command.reject(err);
  }

  private lost(socket: net.Socket): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.ready = false;
    this.header = '';
    this.bulk = null;
    this.skip = 0;
    // The handshake belonged to the lost connection; everything else is sent again on the next.
    while (this.pending[0]?.handshake) this.pending.shift();
    if (this.closed) return;
    this.options.onLost?.();
    const delay = Math.min(MAX_RECONNECT_DELAY_MS, 50 * 2 ** this.failures++);
    setTimeout(() => this.connect(), delay).unref();
  }

  private write(commands: readonly PendingCommand[]): void {
    const socket = this.socket!;
    socket.cork();
    for (const command of commands) for (const part of command.frame) socket.write(part);
    socket.uncork();
  }

  /** Parses replies from the first `n` bytes of `chunk`, in the order the commands were sent. */
  private consume(chunk: Uint8Array, n: number): void {
    let at = 0;
    while (at < n) {
      if (this.skip > 0) {
        const skipped = Math.min(this.skip, n - at);
        this.skip -= skipped;
        at += skipped;
      } else if (this.bulk) {
        const { value } = this.bulk;
        const count = Math.min(value.length - this.bulk.filled, n - at);
        value.set(chunk.subarray(at, at + count), this.bulk.filled);
        this.bulk.filled += count;
        at += count;
        if (this.bulk.filled === value.length) {
          this.bulk = null;
          this.skip = 2; // the value's closing \r\n
          this.answer(value);
        }
      } else {
        const end = chunk.indexOf(10, at); // \n
        if (end < 0 || end >= n) {
          this.header += Buffer.from(chunk.buffer, chunk.byteOffset + at, n - at).toString('latin1');
          at = n;
        } else {
          this.header += Buffer.from(chunk.buffer, chunk.byteOffset + at, end + 1 - at).toString('latin1');
          at = end + 1;
          const line = this.header.slice(0, -2);
          this.header = '';
          this.onHeader(line);
        }
      }
    }
  }

  private onHeader(line: string): void {
    const body = line.slice(1);
    switch (line[0]) {
      case '+':
        return this.answer(body);
      case '-':
        // A restarted Redis answers LOADING until its data is back: wait for it as for a reconnect.
        if (body.startsWith('LOADING ')) return this.startOver();
        return this.answer(new RedisReplyError(body));
      case ':':
        return this.answer(Number(body));
      case '$': {
        const length = Number(body);
        if (length < 0) return this.answer(null);
        const value = this.pending[0]?.into?.take(length) ?? Buffer.allocUnsafe(length);
        if (length === 0) {
          this.skip = 2;
          return this.answer(value);
        }
        this.bulk = { value, filled: 0 };
        return;
      }
      default:
        // Not a reply to GET, SET or the handshake: the stream is out of step.
        this.startOver();
    }
  }

  /** Drops the connection and the rest of its stream; what was not answered is sent again on the next. */
  private startOver(): void {
    this.skip = Infinity; // until lost() resets the parser
    this.socket?.destroy();
  }

  private answer(reply: Reply | RedisReplyError): void {
    const command = this.pending.shift();
    if (!command) return void this.socket?.destroy();
    if (reply instanceof RedisReplyError) command.reject(reply);
    else command.resolve(reply);
  }
}

/** A command in the Redis protocol: strings joined, Buffers left as they are so they are sent without a copy. */
function frame(args: readonly Part[]): Part[] {
  const parts: Part[] = [];
  let text = `*${args.length}\r\n`;
  for (const arg of args) {
    if (typeof arg === 'string') {
      text += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
    } else {
      parts.push(`${text}$${arg.length}\r\n`, arg);
      text = '\r\n';
    }
  }
  parts.push(text);
  return parts;
}
