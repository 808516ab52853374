import type { IncomingMessage, ServerResponse } from 'node:http';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import { Module } from '@nestjs/common';
import { PRECISIONS, shardQueueFor } from '@resnet/protocol';

/** bull-board's page links its fonts (IBM Plex Sans and Mono) from Google: this line. */
const GOOGLE_FONTS_LINK = /<link href="https:\/\/fonts\.googleapis\.com\/[^"]*" rel="stylesheet">/;

/** The same faces and weights from this coordinator (see serveDashboard). */
const LOCAL_FONT_LINKS = [
  ...['400', '500', '600'].map((weight) => `/vendor/ibm-plex-sans/${weight}.css`),
  ...['400', '500'].map((weight) => `/vendor/ibm-plex-mono/${weight}.css`),
]
  .map((href) => `<link href="${href}" rel="stylesheet">`)
  .join('');

/**
 * bull-board's page fetches its fonts from the internet; clusters often have no route out, and a
 * stylesheet that never loads holds up the page. Its HTML gets links to the same fonts served by
 * the coordinator instead, and the policy keeps everything on this origin.
 */
function sameOriginOnly(_req: IncomingMessage, res: ServerResponse, next: () => void): void {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:",
  );
  const express = res as ServerResponse & { send?: (body: unknown) => unknown };
  const send = express.send;
  if (send) {
    express.send = function (body: unknown) {
      return send.call(
        this,
        typeof body === 'string' ? body.replace(GOOGLE_FONTS_LINK, LOCAL_FONT_LINKS) : body,
      );
    };
  }
  next();
}

/** bull-board at /queues: each precision's shard queue's waiting, active, completed and failed shards. */
@Module({
  imports: [
    BullBoardModule.forRoot({
      route: '/queues',
      adapter: ExpressAdapter,
      middleware: sameOriginOnly,
      boardOptions: { uiConfig: { boardTitle: 'ResNet shards' } },
    }),
    // Read-only: the coordinator owns the shards; retrying or removing one behind its back would stall a step.
    BullBoardModule.forFeature(
      ...PRECISIONS.map((precision) => ({
        name: shardQueueFor(precision),
        adapter: BullMQAdapter,
        options: { readOnlyMode: true },
      })),
    ),
  ],
})
export class QueueBoardModule {}
