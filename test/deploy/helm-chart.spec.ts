/**
 * The Helm chart in deploy/helm, rendered as `helm template` would (there is no helm binary here;
 * see helm-template.ts for the subset it renders), and each manifest validated against its
 * Kubernetes schema (npm kubernetes-models) or KEDA's ScaledObject schema (@kubernetes-models/keda).
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { renderChart, RenderOptions } from '../support/helm-template';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..'); // dist/test/deploy -> repo
const CHART = path.join(REPO_ROOT, 'deploy', 'helm', 'resnet-cluster');
const REDIS = { redis: { url: 'redis://redis-master.data.svc:6379' } };

type Manifest = Record<string, any>;
type ModelClass = new (data: Manifest) => { validate(): void };

// The models are ES modules without a CommonJS entry; tsc would turn import() into require().
const importEsm = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<Record<string, ModelClass>>;

/** The model package module of each kind the chart renders. */
const MODELS: Record<string, string> = {
  'apps/v1 Deployment': 'kubernetes-models/apps/v1/Deployment',
  'apps/v1 DaemonSet': 'kubernetes-models/apps/v1/DaemonSet',
  'v1 Service': 'kubernetes-models/v1/Service',
  'keda.sh/v1alpha1 ScaledObject': '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject',
};

async function validate(manifest: Manifest): Promise<void> {
  const module = MODELS[`${manifest.apiVersion} ${manifest.kind}`];
  assert.ok(module, `no schema for ${manifest.apiVersion} ${manifest.kind}`);
  const Model = (await importEsm(module))[manifest.kind];
  new Model(manifest).validate(); // throws naming the path of each violation
}

function render(values: Manifest = {}, options: RenderOptions = {}): Manifest[] {
  return renderChart(CHART, {
    releaseName: 'rc',
    namespace: 'training',
    ...options,
    values: { ...REDIS, ...values },
  });
}

function find(manifests: Manifest[], kind: string, component: string): Manifest {
  const found = manifests.find(
    (m) => m.kind === kind && m.metadata.labels['app.kubernetes.io/component'] === component,
  );
  assert.ok(found, `no ${kind} for ${component}`);
  return found;
}

const EVERYTHING = {
  gpuWorker: { enabled: true },
  autoscaling: { enabled: true },
  aggregator: { enabled: true, cpuOnly: { replicas: 2 } },
};

describe('Helm chart deploy/helm/resnet-cluster', () => {
  it('renders by default a coordinator Deployment and Service and a worker Deployment', () => {
    const kinds = render().map((m) => `${m.kind}/${m.metadata.name}`);
    assert.deepEqual(kinds.sort(), [
      'Deployment/rc-resnet-cluster-coordinator',
      'Deployment/rc-resnet-cluster-worker',
      'Service/rc-resnet-cluster-coordinator',
    ]);
  });

  for (const trigger of ['prometheus', 'redis']) {
    it(`validates every manifest against its schema, GPU workers and KEDA (${trigger} trigger) included`, async () => {
      const manifests = render({
        ...EVERYTHING,
        autoscaling: { enabled: true, trigger, redis: { address: 'redis-master.data.svc:6379' } },
        data: { persistentVolumeClaim: 'datasets' },
        coordinator: { apiTokenSecret: 'rc-api', checkpoints: { persistentVolumeClaim: 'checkpoints' } },
        worker: { resources: { requests: { cpu: '1' } } },
      });
      assert.equal(manifests.length, 7);
      for (const manifest of manifests) await validate(manifest);
    });
  }

  it('has validation that refuses what Kubernetes and KEDA would refuse', async () => {
    const manifests = render(EVERYTHING);
    const worker = find(manifests, 'Deployment', 'worker');
    const broken = {
      ...worker,
      spec: {
        ...worker.spec,
        template: {
          ...worker.spec.template,
          spec: { ...worker.spec.template.spec, terminationGracePeriodSeconds: '90' },
        },
      },
    };
    await assert.rejects(validate(broken), /terminationGracePeriodSeconds must be integer/);
    const scaled = find(manifests, 'ScaledObject', 'worker');
    await assert.rejects(
      validate({ ...scaled, spec: { ...scaled.spec, scaleTargetRef: {} } }),
      /scaleTargetRef must have required property name/,
    );
  });

  it("labels every object and pod with Helm's recommended labels, and selects by the stable ones", () => {
    for (const m of render(EVERYTHING)) {
      const labels = m.metadata.labels;
      assert.equal(labels['helm.sh/chart'], 'resnet-cluster-0.1.0');
      assert.equal(labels['app.kubernetes.io/name'], 'resnet-cluster');
      assert.equal(labels['app.kubernetes.io/instance'], 'rc');
      assert.equal(labels['app.kubernetes.io/version'], '0.1.0');
      assert.equal(labels['app.kubernetes.io/managed-by'], 'Helm');
      assert.ok(labels['app.kubernetes.io/component']);
      if (m.kind !== 'Deployment' && m.kind !== 'DaemonSet') continue;
      const selector = m.spec.selector.matchLabels;
      // Selectors are immutable: version and chart labels would break upgrades.
      assert.deepEqual(Object.keys(selector).sort(), [
        'app.kubernetes.io/component',
        'app.kubernetes.io/instance',
        'app.kubernetes.io/name',
      ]);
      for (const [key, value] of Object.entries(selector))
        assert.equal(m.spec.template.metadata.labels[key], value);
    }
  });

  it('runs 2 coordinators, ready only while Redis answers, behind the Service', () => {
    const manifests = render();
    const coordinator = find(manifests, 'Deployment', 'coordinator');
    assert.equal(coordinator.spec.replicas, 2);
    const [container] = coordinator.spec.template.spec.containers;
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/health/ready', port: 'http' });
    assert.equal(container.livenessProbe.httpGet.path, '/health/live');
    const env = Object.fromEntries(container.env.map((e: Manifest) => [e.name, e.value]));
    assert.equal(env.REDIS_URL, REDIS.redis.url);
    assert.equal(env.HOST, '0.0.0.0');
    assert.equal(env.MAX_CONCURRENT_JOBS, '1');
    const service = find(manifests, 'Service', 'coordinator');
    assert.deepEqual(service.spec.selector, coordinator.spec.selector.matchLabels);
    assert.equal(service.spec.ports[0].targetPort, 'http');
  });

  it('runs a summation service on every worker node, and CPU-only ones at most one per node, only when enabled', async () => {
    assert.ok(
      !render().some((m) => m.metadata.labels['app.kubernetes.io/component'].startsWith('aggregator')),
    );
    assert.ok(
      !render({ aggregator: { enabled: true } }).some(
        (m) => m.kind === 'Deployment' && m.metadata.name.endsWith('-cpu'),
      ),
    );
    const manifests = render({
      ...EVERYTHING,
      aggregator: {
        enabled: true,
        nodeSelector: { gpu: 'true' },
        cpuOnly: { replicas: 3, nodeSelector: { pool: 'cpu' } },
      },
    });
    const perNode = find(manifests, 'DaemonSet', 'aggregator');
    const cpuOnly = find(manifests, 'Deployment', 'aggregator-cpu');
    await validate(perNode);
    await validate(cpuOnly);
    assert.deepEqual(perNode.spec.template.spec.nodeSelector, { gpu: 'true' });
    assert.equal(cpuOnly.spec.replicas, 3);
    assert.deepEqual(cpuOnly.spec.template.spec.nodeSelector, { pool: 'cpu' });
    const [antiAffinity] =
      cpuOnly.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    assert.equal(antiAffinity.topologyKey, 'kubernetes.io/hostname');
    assert.deepEqual(antiAffinity.labelSelector.matchLabels, cpuOnly.spec.selector.matchLabels);
    for (const workload of [perNode, cpuOnly]) {
      const [container] = workload.spec.template.spec.containers;
      const command: string[] = container.command;
      assert.deepEqual(command.slice(0, 2), ['node', 'dist/apps/aggregator/src/main.js']);
      const flag = (name: string) => command[command.indexOf(name) + 1];
      // Workers dial the pod's own address from the registry; the node's name says who is colocated.
      assert.equal(flag('--advertise'), '$(POD_IP)');
      assert.equal(flag('--machine'), '$(NODE_NAME)');
      const env = Object.fromEntries(container.env.map((e: Manifest) => [e.name, e]));
      assert.equal(env.POD_IP.valueFrom.fieldRef.fieldPath, 'status.podIP');
      assert.equal(env.NODE_NAME.valueFrom.fieldRef.fieldPath, 'spec.nodeName');
      assert.equal(env.REDIS_URL.value, REDIS.redis.url);
      assert.equal(container.ports[0].containerPort, Number(flag('--port')));
      assert.deepEqual(container.readinessProbe.tcpSocket, { port: container.ports[0].name });
    }
    // No Service: a unit must reach the service that leases it, not whichever one a Service picks.
    assert.ok(
      !manifests.some(
        (m) =>
          m.kind === 'Service' && m.metadata.labels['app.kubernetes.io/component'].startsWith('aggregator'),
      ),
    );
  });

  it('gives workers more time to stop than a shard may take', () => {
    const manifests = render(EVERYTHING);
    for (const component of ['worker', 'gpu-worker']) {
      const pod = find(manifests, 'Deployment', component).spec.template.spec;
      const command: string[] = pod.containers[0].command;
      const lockMs = Number(command[command.indexOf('--lock-ms') + 1]);
      assert.ok(
        pod.terminationGracePeriodSeconds > lockMs / 1000,
        `${component}: grace period within a shard's lock`,
      );
    }
  });

  it('runs GPU workers on WebGPU with one NVIDIA GPU and the Vulkan driver exposed', () => {
    const gpu = find(render(EVERYTHING), 'Deployment', 'gpu-worker');
    const [container] = gpu.spec.template.spec.containers;
    assert.deepEqual(container.command.slice(2, 6), ['--backend', 'webgpu', '--device', 'gpu']);
    assert.equal(container.resources.limits['nvidia.com/gpu'], 1);
    const capabilities = container.env.find((e: Manifest) => e.name === 'NVIDIA_DRIVER_CAPABILITIES');
    assert.deepEqual(capabilities.value.split(','), ['compute', 'utility', 'graphics']);
  });

  // The CRD schema leaves trigger metadata a map of strings; these are the fields KEDA's docs require.
  it('scales workers with KEDA on the outstanding shards, leaving the replica count to KEDA', () => {
    const manifests = render(EVERYTHING);
    const scaled = find(manifests, 'ScaledObject', 'worker');
    const worker = find(manifests, 'Deployment', 'worker');
    assert.equal(scaled.spec.scaleTargetRef.name, worker.metadata.name);
    assert.equal(worker.spec.replicas, undefined);
    const [trigger] = scaled.spec.triggers;
    assert.equal(trigger.type, 'prometheus');
    assert.match(trigger.metadata.serverAddress, /^https?:\/\//);
    assert.equal(
      trigger.metadata.query,
      'max(sum by (pod) (resnet_shard_queue_jobs{state=~"waiting|prioritized|active",namespace="training"}))',
    );
    assert.equal(trigger.metadata.threshold, '1');
  });

  it("can scale on BullMQ's wait list with KEDA's redis scaler instead", () => {
    const scaled = find(
      render({
        autoscaling: { enabled: true, trigger: 'redis', redis: { address: 'redis:6379' } },
        redis: { url: 'redis://redis:6379', prefix: 'lab' },
      }),
      'ScaledObject',
      'worker',
    );
    assert.deepEqual(scaled.spec.triggers, [
      { type: 'redis', metadata: { address: 'redis:6379', listName: 'lab:shards:wait', listLength: '1' } },
    ]);
  });

  it('refuses to render without a Redis, naming the value to set', () => {
    assert.throws(() => renderChart(CHART), /set redis\.url/);
    assert.throws(
      () => render({ autoscaling: { enabled: true, trigger: 'cpu' } }),
      /autoscaling\.trigger must be prometheus or redis/,
    );
  });
});
