import type { IncomingMessage, ServerResponse } from 'node:http';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import { Module } from '@nestjs/common';
import { PRECISIONS, shardQueueFor } from '@resnet/protocol';

/**
 * bull-board's page links a web font from the internet; clusters often have no route out, and a
 * stylesheet that never loads holds up the page. This policy makes the browser skip it at once.
 */
function sameOriginOnly(_req: IncomingMessage, res: ServerResponse, next: () => void): void {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:",
  );
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
