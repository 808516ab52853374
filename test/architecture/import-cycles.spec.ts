import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository root, from dist/test/architecture/ or from test/architecture/. */
const ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
const COORDINATOR_SRC = path.join(ROOT, 'apps/coordinator/src');
const RELATIVE_IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'/g;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** A file's unit of layering: its top folder under `root`, or the file itself when it sits in `root`. */
function unitOf(root: string, file: string): string {
  const [first, ...rest] = path.relative(root, file).split(path.sep);
  return rest.length ? `${first}/` : first;
}

/** Which units import which, from the relative imports of every file under `root`. */
export function unitGraph(root: string): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(root)) {
    const from = unitOf(root, file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const [, target] of fs.readFileSync(file, 'utf8').matchAll(RELATIVE_IMPORT)) {
      const resolved = path.resolve(path.dirname(file), target);
      if (!resolved.startsWith(root + path.sep)) continue;
      const to = unitOf(root, fs.existsSync(resolved) ? resolved : `${resolved}.ts`);
      if (to !== from) edges.add(to);
    }
  }
  return graph;
}

/** One cycle of the graph as a path that ends where it starts, or null when there is none. */
export function findCycle(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] | null {
  const done = new Set<string>();
  const onPath: string[] = [];
  const visit = (unit: string): string[] | null => {
    const at = onPath.indexOf(unit);
    if (at >= 0) return [...onPath.slice(at), unit];
    if (done.has(unit)) return null;
    onPath.push(unit);
    for (const next of graph.get(unit) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    onPath.pop();
    done.add(unit);
    return null;
  };
  for (const unit of graph.keys()) {
    const cycle = visit(unit);
    if (cycle) return cycle;
  }
  return null;
}

describe('coordinator layering', () => {
  it('finds a cycle when there is one', () => {
    const graph = new Map([
      ['jobs/', new Set(['training/'])],
      ['training/', new Set(['repositories/', 'jobs/'])],
      ['repositories/', new Set<string>()],
    ]);
    assert.deepEqual(findCycle(graph), ['jobs/', 'training/', 'jobs/']);
    graph.get('training/')!.delete('jobs/');
    assert.equal(findCycle(graph), null);
  });

  it('has no import cycle between the folders of apps/coordinator/src', () => {
    const graph = unitGraph(COORDINATOR_SRC);
    assert.ok(graph.has('repositories/'), `no coordinator sources found under ${COORDINATOR_SRC}`);
    const cycle = findCycle(graph);
    assert.equal(cycle, null, `import cycle: ${cycle?.join(' -> ')}; make one side depend on a lower folder`);
  });

  it('keeps repositories/ below every feature folder', () => {
    const below = [...(unitGraph(COORDINATOR_SRC).get('repositories/') ?? [])].filter(
      (unit) => unit.endsWith('/') && unit !== 'errors/',
    );
    assert.deepEqual(below, [], 'repositories/ may import only errors/ and the root files');
  });
});
