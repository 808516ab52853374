import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Swagger UI at /docs and the OpenAPI document at /docs-json, both served from node_modules. */
export function serveOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('ResNet cluster coordinator')
    .setDescription(
      'Submit and control distributed ResNet training jobs, follow their metrics and the workers. ' +
        'The dashboard is at /, the shard queue at /queues, Prometheus metrics at /metrics.',
    )
    // Listed in this order in the UI.
    .addTag('jobs', 'Training jobs: submit, follow, control')
    .addTag('workers', 'The workers that compute shards')
    .addTag('dashboard', 'The live feed behind the web dashboard')
    .addTag('observability', 'Prometheus metrics and health probes')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config));
}
