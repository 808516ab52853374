import * as net from 'node:net';
import { UnitTransportError } from './errors/unit-transport.error';
import { encodeFrame, Frame, FrameReader } from './frames';
import { UnitRequest, UnitResponse } from './unit-messages';

interface Pending {
  resolve(frame: Frame<UnitResponse>): void;
  reject(err: Error): void;
}

/** How long a unit request waits for its answer by default: a few MB, even on a loaded machine. */
export const UNIT_REQUEST_TIMEOUT_MS = 5000;

/** One connection to a service, requests pipelined on it and answered by id. */
class ServiceConnection {
  private readonly socket: net.Socket;
  private readonly pending = new Map<number, Pending>();
  private readonly reader = new FrameReader();
  private nextId = 1;
  closed = false;

  constructor(
    readonly address: string,
    private readonly timeoutMs: number,
  ) {
    const { host, port } = splitAddress(address);
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of this.reader.push(chunk))
          this.answer(frame as Frame<UnitResponse & { id: number }>);
      } catch (err) {
        this.fail(err as Error);
      }
    });
    this.socket.on('error', (err) => this.fail(new UnitTransportError(`service ${address}: ${err.message}`)));
    this.socket.on('close', () =>
      this.fail(new UnitTransportError(`service ${address} closed the connection`)),
    );
  }

  request(header: UnitRequest, payload?: Buffer): Promise<Frame<UnitResponse>> {
    if (this.closed) return Promise.reject(new UnitTransportError(`service ${this.address} is unreachable`));
    const id = this.nextId++;
    const answered = new Promise<Frame<UnitResponse>>((resolve, reject) =>
      this.pending.set(id, { resolve, reject }),
    );
    // A frozen service (stopped, partitioned) answers nothing: give up on the whole connection.
    const timer = setTimeout(
      () =>
        this.fail(
          new UnitTransportError(`service ${this.address} did not answer within ${this.timeoutMs} ms`),
        ),
      this.timeoutMs,
    );
    answered.then(
      () => clearTimeout(timer),
      () => clearTimeout(timer),
    );
    for (const part of encodeFrame({ ...header, id }, payload)) this.socket.write(part);
    return answered;
  }

  close(): void {
    this.socket.destroy();
    this.fail(new UnitTransportError(`connection to service ${this.address} closed`));
  }

  private answer(frame: Frame<UnitResponse & { id: number }>): void {
    const pending = this.pending.get(frame.header.id);
    if (!pending) return;
    this.pending.delete(frame.header.id);
    pending.resolve(frame);
  }

  private fail(err: Error): void {
    this.closed = true;
    this.socket.destroy();
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/**
 * A worker's side of the unit data path: requests to summation services over TCP, one connection
 * per service address, opened on first use and again after it breaks. A request whose connection
 * breaks rejects with UnitTransportError; nothing is re-sent (the shard is recomputed instead).
 */
export class UnitClient {
  private readonly connections = new Map<string, ServiceConnection>();

  /** `timeoutMs`: how long a request may wait for its answer before its connection is given up. */
  constructor(private readonly timeoutMs = UNIT_REQUEST_TIMEOUT_MS) {}

  /** The service's answer; a refusal is an answer, not an error. */
  async request(address: string, header: UnitRequest, payload?: Buffer): Promise<Frame<UnitResponse>> {
    let connection = this.connections.get(address);
    if (!connection || connection.closed) {
      connection = new ServiceConnection(address, this.timeoutMs);
      this.connections.set(address, connection);
    }
    return connection.request(header, payload);
  }

  close(): void {
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }
}

/** `host:port` (or `[v6]:port`) into its parts. */
export function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const port = Number(address.slice(at + 1));
  if (at < 0 || !Number.isInteger(port) || port <= 0 || port > 65535)
    throw new UnitTransportError(`service address "${address}" is not host:port`);
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port };
}
