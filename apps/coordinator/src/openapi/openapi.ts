import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { READ_ONLY_METHODS } from '../auth/api-token.middleware';
import { JSON_BODY_LIMIT } from '../bootstrap-limits';

/** The name of the bearer scheme in the document. */
const API_TOKEN_SCHEME = 'apiToken';

/** Swagger UI at /docs and the OpenAPI document at /docs-json, both served from node_modules. */
export function serveOpenApi(app: INestApplication, apiTokenRequired: boolean): void {
  const builder = new DocumentBuilder()
    .setTitle('ResNet cluster coordinator')
    .setDescription(
      'Submit and control distributed ResNet training jobs, follow their metrics and the workers. ' +
        'The dashboard is at /, the shard queue at /queues, Prometheus metrics at /metrics.',
    )
    .setLicense('MIT', 'https://opensource.org/license/mit')
    // Relative: whichever address the document was fetched from.
    .addServer('/', 'this coordinator')
    // Listed in this order in the UI.
    .addTag('jobs', 'Training jobs: submit, follow, control')
    .addTag('workers', 'The workers that compute shards')
    .addTag('dashboard', 'The live feed behind the web dashboard')
    .addTag('observability', 'Prometheus metrics and health probes');
  // Only a coordinator started with API_TOKEN asks for it.
  if (apiTokenRequired) {
    builder.addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        description:
          "The coordinator's API_TOKEN: every request that changes something needs it; reads do not.",
      },
      API_TOKEN_SCHEME,
    );
  }
  const config = builder.build();
  SwaggerModule.setup('docs', app, () =>
    withRequestRules(SwaggerModule.createDocument(app, config), apiTokenRequired),
  );
}

/**
 * What holds for every operation by its method rather than by its controller, stated from the same
 * rules the app applies: the token middleware guards every method that changes something, and the
 * JSON body parser refuses bodies it cannot parse or that exceed its limit.
 */
function withRequestRules(doc: OpenAPIObject, apiTokenRequired: boolean): OpenAPIObject {
  for (const operations of Object.values(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (typeof operation !== 'object' || operation === null || !('responses' in operation)) continue;
      if (READ_ONLY_METHODS.has(method.toUpperCase())) {
        operation.security = [];
        continue;
      }
      operation.security = apiTokenRequired ? [{ [API_TOKEN_SCHEME]: [] }] : [];
      operation.responses['400'] ??= { description: 'The body is not valid JSON' };
      if (apiTokenRequired) {
        operation.responses['401'] = { description: 'The request carries no bearer token, or another one' };
      }
      operation.responses['413'] = { description: `The body is larger than ${JSON_BODY_LIMIT}` };
    }
  }
  return doc;
}
