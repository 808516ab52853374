import { Option } from 'commander';
import { DEFAULT_COORDINATOR_HOST, DEFAULT_COORDINATOR_PORT, JobMetrics, WorkerView } from '@resnet/protocol';
import { JobView } from '@resnet/job';
import { CoordinatorError } from './errors/coordinator.error';

export const DEFAULT_COORDINATOR_URL = `http://${DEFAULT_COORDINATOR_HOST}:${DEFAULT_COORDINATOR_PORT}`;

// --url and --token, for every command that talks to a running coordinator.
export function coordinatorUrlOption(): Option {
  return new Option('--url <url>', 'coordinator address')
    .env('COORDINATOR_URL')
    .default(DEFAULT_COORDINATOR_URL);
}

export function apiTokenOption(): Option {
  return new Option('--token <token>', 'API token of a coordinator started with API_TOKEN').env('API_TOKEN');
}

export interface CoordinatorOptions {
  readonly url: string;
  readonly token?: string;
}

export type JobAction = 'cancel' | 'pause' | 'resume';

/**
 * The body of POST /jobs as the CLI builds it; the server validates it whole. A test checks it
 * against the request type generated from /docs-json (test/dashboard/openapi.spec.ts).
 */
export interface CreateJobRequest {
  readonly epochs?: number;
  readonly dataset: { readonly kind: 'synthetic' } | { readonly kind: 'folder'; readonly path: string };
  readonly batchSize?: number;
  readonly shardsPerStep?: number;
  readonly schedule?: { readonly decay?: 'constant' | 'step' | 'cosine'; readonly warmupEpochs?: number };
}

/** The coordinator's REST API, for the CLI. */
export class CoordinatorClient {
  readonly baseUrl: string;
  private readonly token?: string;

  constructor({ url, token }: CoordinatorOptions) {
    this.baseUrl = url.replace(/\/+$/, '');
    this.token = token;
  }

  submit(body: unknown): Promise<JobView> {
    return this.request('POST', '/jobs', body);
  }

  jobs(): Promise<JobView[]> {
    return this.request('GET', '/jobs');
  }

  job(id: string): Promise<JobView> {
    return this.request('GET', `/jobs/${encodeURIComponent(id)}`);
  }

  metrics(id: string): Promise<JobMetrics> {
    return this.request('GET', `/jobs/${encodeURIComponent(id)}/metrics`);
  }

  act(id: string, action: JobAction): Promise<JobView> {
    return this.request('POST', `/jobs/${encodeURIComponent(id)}/${action}`);
  }

  workers(): Promise<WorkerView[]> {
    return this.request('GET', '/workers');
  }

  releaseWorker(id: string): Promise<{ id: string; wasQuarantined: boolean }> {
    return this.request('POST', `/workers/${encodeURIComponent(id)}/release`);
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new Error(
        `cannot reach the coordinator at ${this.baseUrl} (${cause}): is it running? Set --url or COORDINATOR_URL`,
        { cause: err },
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      throw new Error(
        `${this.baseUrl} answered ${res.status} with something other than JSON: is it the coordinator?`,
      );
    }
    if (!res.ok) {
      // Nest answers { message: string | string[] }; validation errors list one message per problem.
      const message = (json as { message?: unknown } | null)?.message ?? `${res.status} ${res.statusText}`;
      const messages = Array.isArray(message) ? message : [String(message)];
      if (res.status === 401)
        messages.push(
          this.token ? 'the token given is not the one it was started with' : 'set --token or API_TOKEN',
        );
      throw new CoordinatorError(res.status, messages);
    }
    return json as T;
  }
}
