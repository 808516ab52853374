import * as fs from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';

/**
 * `helm template` for this repository's chart, where no helm binary can be installed: a renderer of
 * the part of Go's text/template and Helm's functions that the chart uses — actions with
 * pipelines, `if`/`else if`/`else`, `define` and `include`, whitespace trimming, comments, and the
 * functions in FUNCTIONS. Anything else (`range`, `with`, variables, parentheses, an unknown
 * function or field) throws rather than render differently from Helm, so a template that leaves
 * this subset fails its test instead of passing it wrongly.
 */

type Scope = Record<string, unknown>;

type Node =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'output'; readonly pipeline: string }
  | { readonly kind: 'if'; readonly branches: Array<{ condition: string | null; body: Node[] }> };

interface Token {
  readonly text?: string;
  readonly action?: string;
}

/** Splits a template into text and actions, applying `{{-` and `-}}` trimming and dropping comments. */
function tokenize(source: string, file: string): Token[] {
  const tokens: Token[] = [];
  let rest = source;
  let trimNext = false;
  for (;;) {
    const open = rest.indexOf('{{');
    let text = open < 0 ? rest : rest.slice(0, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      tokens.push({ text });
      return tokens;
    }
    const close = rest.indexOf('}}', open);
    if (close < 0) throw new Error(`${file}: unclosed action`);
    let inner = rest.slice(open + 2, close);
    if (inner.startsWith('- ')) {
      text = text.replace(/\s+$/, '');
      inner = inner.slice(2);
    }
    trimNext = inner.endsWith(' -');
    if (trimNext) inner = inner.slice(0, -2);
    tokens.push({ text });
    inner = inner.trim();
    if (!(inner.startsWith('/*') && inner.endsWith('*/'))) tokens.push({ action: inner });
    rest = rest.slice(close + 2);
  }
}

/** Builds the node tree; `define` blocks go into `defines`. */
function parse(tokens: Token[], defines: Map<string, Node[]>, file: string): Node[] {
  let at = 0;
  const block = (): { body: Node[]; ended: string } => {
    const body: Node[] = [];
    while (at < tokens.length) {
      const token = tokens[at++];
      if (token.text !== undefined) {
        if (token.text) body.push({ kind: 'text', text: token.text });
        continue;
      }
      const action = token.action!;
      const [keyword] = action.split(/\s+/, 1);
      if (keyword === 'end' || keyword === 'else') return { body, ended: action };
      if (keyword === 'if') {
        const branches: Array<{ condition: string | null; body: Node[] }> = [];
        let condition: string | null = action.slice(2).trim();
        for (;;) {
          const inner = block();
          branches.push({ condition, body: inner.body });
          if (inner.ended === 'end') break;
          if (inner.ended === 'else') condition = null;
          else if (inner.ended.startsWith('else if ')) condition = inner.ended.slice(8).trim();
          else throw new Error(`${file}: unsupported ${inner.ended}`);
        }
        body.push({ kind: 'if', branches });
      } else if (keyword === 'define') {
        const name = /^define\s+"([^"]+)"$/.exec(action)?.[1];
        if (!name) throw new Error(`${file}: malformed ${action}`);
        const inner = block();
        if (inner.ended !== 'end') throw new Error(`${file}: define "${name}" ended by ${inner.ended}`);
        defines.set(name, inner.body);
      } else if (['range', 'with', 'block', 'template'].includes(keyword) || action.includes('$')) {
        throw new Error(`${file}: "${action}" is outside the subset this renderer supports`);
      } else {
        body.push({ kind: 'output', pipeline: action });
      }
    }
    return { body, ended: 'eof' };
  };
  const { body, ended } = block();
  if (ended !== 'eof') throw new Error(`${file}: unexpected {{ ${ended} }}`);
  return body;
}

/** Go's truth: false, 0, nil and empty strings, maps and lists are false. */
function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}

function printed(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') throw new Error(`printing ${JSON.stringify(value)} needs toYaml`);
  return String(value);
}

type HelmFunction = (this: Renderer, scope: Scope, ...args: unknown[]) => unknown;

const FUNCTIONS: Record<string, HelmFunction> = {
  include(_scope, name, context) {
    return this.include(String(name), context as Scope);
  },
  quote: (_scope, value) => JSON.stringify(printed(value)),
  default: (_scope, fallback, value) => (truthy(value) ? value : fallback),
  required: (_scope, message, value) => {
    if (!truthy(value)) throw new Error(String(message));
    return value;
  },
  toYaml: (_scope, value) => yaml.dump(value, { lineWidth: -1 }).replace(/\n$/, ''),
  indent: (_scope, width, text) => printed(text).replace(/^/gm, ' '.repeat(Number(width))),
  nindent: (_scope, width, text) => '\n' + printed(text).replace(/^/gm, ' '.repeat(Number(width))),
  trunc: (_scope, length, text) => printed(text).slice(0, Number(length)),
  trimSuffix: (_scope, suffix, text) => {
    const s = printed(text);
    return s.endsWith(String(suffix)) ? s.slice(0, -String(suffix).length) : s;
  },
  replace: (_scope, from, to, text) => printed(text).split(String(from)).join(String(to)),
  printf: (_scope, format, ...args) => {
    let i = 0;
    return String(format).replace(/%[sd]/g, () => printed(args[i++]));
  },
  fail: (_scope, message) => {
    throw new Error(String(message));
  },
  eq: (_scope, a, b) => a === b,
  not: (_scope, value) => !truthy(value),
};

class Renderer {
  constructor(private readonly defines: Map<string, Node[]>) {}

  render(nodes: Node[], scope: Scope): string {
    let out = '';
    for (const node of nodes) {
      if (node.kind === 'text') out += node.text;
      else if (node.kind === 'output') out += printed(this.pipeline(node.pipeline, scope));
      else {
        const branch = node.branches.find(
          (b) => b.condition === null || truthy(this.pipeline(b.condition, scope)),
        );
        if (branch) out += this.render(branch.body, scope);
      }
    }
    return out;
  }

  include(name: string, scope: Scope): string {
    const body = this.defines.get(name);
    if (!body) throw new Error(`include of undefined template "${name}"`);
    return this.render(body, scope);
  }

  private pipeline(source: string, scope: Scope): unknown {
    const words = source.match(/"(?:[^"\\]|\\.)*"|[^\s|]+|\|/g) ?? [];
    if (words.some((word) => !word.startsWith('"') && /[()]/.test(word))) {
      throw new Error(`"${source}": parentheses are outside the supported subset`);
    }
    const commands: string[][] = [[]];
    for (const word of words) {
      if (word === '|') commands.push([]);
      else commands[commands.length - 1].push(word);
    }
    let piped: unknown[] = [];
    for (const [head, ...rest] of commands) {
      if (head.startsWith('.') || head.startsWith('"') || /^-?\d/.test(head)) {
        if (rest.length || piped.length) throw new Error(`"${source}": a value takes no arguments`);
        piped = [this.argument(head, scope)];
        continue;
      }
      const fn = FUNCTIONS[head];
      if (!fn) throw new Error(`function "${head}" is outside the supported subset`);
      piped = [fn.call(this, scope, ...rest.map((word) => this.argument(word, scope)), ...piped)];
    }
    return piped[0];
  }

  private argument(word: string, scope: Scope): unknown {
    if (word.startsWith('"')) return JSON.parse(word) as string;
    if (/^-?\d+(\.\d+)?$/.test(word)) return Number(word);
    if (word === '.') return scope;
    if (!word.startsWith('.')) throw new Error(`argument "${word}" is outside the supported subset`);
    let value: unknown = scope;
    for (const field of word.slice(1).split('.')) {
      if (value === null || typeof value !== 'object')
        throw new Error(`${word}: no field ${field} in a non-map`);
      value = (value as Scope)[field];
    }
    return value;
  }
}

export interface RenderOptions {
  /** @defaultValue 'release' */
  readonly releaseName?: string;
  /** @defaultValue 'default' */
  readonly namespace?: string;
  /** Merged over the chart's values.yaml, as `helm template -f` does (maps deeply, anything else replaced). */
  readonly values?: Scope;
}

function merged(base: unknown, over: unknown): unknown {
  const isMap = (v: unknown): v is Scope => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out: Scope = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = merged(base[key], value);
  return out;
}

/** The chart's templates rendered and parsed: one object per Kubernetes manifest, as `helm template` prints them. */
export function renderChart(chartDir: string, options: RenderOptions = {}): Array<Record<string, any>> {
  const chart = yaml.load(fs.readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) as Scope;
  const values = yaml.load(fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8'));
  const scope: Scope = {
    Values: merged(values, options.values ?? {}),
    Release: {
      Name: options.releaseName ?? 'release',
      Namespace: options.namespace ?? 'default',
      Service: 'Helm',
    },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const templatesDir = path.join(chartDir, 'templates');
  const files = fs.readdirSync(templatesDir).sort();
  const defines = new Map<string, Node[]>();
  const parsed = files.map((file) => ({
    file,
    nodes: parse(tokenize(fs.readFileSync(path.join(templatesDir, file), 'utf8'), file), defines, file),
  }));
  const renderer = new Renderer(defines);
  return parsed
    .filter(({ file }) => !file.startsWith('_') && /\.ya?ml$/.test(file))
    .flatMap(({ nodes }) => yaml.loadAll(renderer.render(nodes, scope)))
    .filter((doc): doc is Record<string, any> => doc !== null && doc !== undefined);
}
