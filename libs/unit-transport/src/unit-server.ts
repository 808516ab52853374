import * as net from 'node:net';
import { encodeFrame, Frame, FrameReader } from './frames';
import { UnitRequest, UnitResponse } from './unit-messages';

/** What answers each request a UnitServer receives: the response header, and the weights message of a pull. */
export type UnitRequestHandler = (
  request: UnitRequest,
  payload: Buffer,
) => Promise<{ readonly response: UnitResponse; readonly payload?: Buffer }>;

/**
 * A summation service's side of the unit data path: a TCP server that hands each request frame to
 * the handler and writes its answer back under the request's id. A connection that sends a broken
 * frame is closed.
 */
export class UnitServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(handler: UnitRequestHandler) {
    this.server = net.createServer({ noDelay: true }, (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      const reader = new FrameReader();
      socket.on('data', (chunk: Buffer) => {
        let frames: Frame[];
        try {
          frames = reader.push(chunk);
        } catch {
          socket.destroy();
          return;
        }
        for (const { header, payload } of frames) {
          const { id, ...request } = header as unknown as UnitRequest & { id: number };
          void handler(request as UnitRequest, payload).then(
            (answer) => {
              if (socket.destroyed) return;
              for (const part of encodeFrame({ ...answer.response, id }, answer.payload)) socket.write(part);
            },
            (err: Error) => {
              if (socket.destroyed) return;
              for (const part of encodeFrame({ ok: false, reason: err.message, workersFault: false, id }))
                socket.write(part);
            },
          );
        }
      });
    });
  }

  /** Listens; resolves with the port (the one chosen when `port` is 0). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
