import { WorkerInfo } from './worker-info';

/** A worker as the REST API returns it (GET /workers). */
export interface WorkerView extends WorkerInfo {
  /** It sent a heartbeat recently. */
  readonly alive: boolean;
  /** Its results kept being rejected; it takes no more shards. */
  readonly quarantined: boolean;
}
