import { applyStepInPlace, ShardContribution, SgdSettings, StepAggregator } from '@resnet/optimizer';
import { TensorCodec } from '@resnet/protocol';
import { ModelPartition, ModelTensorCodec } from '@resnet/job';
import { DurableUnit } from './repositories/unit-store.repository';

/** One weights version of a unit, with the momentum that goes with it and the message that serves it. */
export interface UnitVersion {
  readonly version: number;
  readonly params: Float32Array;
  readonly state: Float32Array;
  readonly velocity: Float32Array;
  /** The weights message workers pull; its XXH3 is what the commit record lists. */
  readonly message: Buffer;
}

/**
 * A unit of a job that this service holds the lease of: its committed version (served to workers,
 * and restored from after a redone step), the version the current step makes (tentative until
 * the coordinator commits it), and the step's fold of the shards' gradient units.
 */
export class UnitHolder {
  private tentativeVersion: UnitVersion | null = null;
  /**
   * The coordinator's attempt this unit works under (-1 before any request): a redone step, or a
   * rollback, comes with a higher one; requests of a lower one are stale.
   */
  attempt = -1;
  private readonly aggregator: StepAggregator;

  constructor(
    readonly unit: ModelPartition,
    readonly epoch: number,
    private committedVersion: UnitVersion,
    shardsPerStep: number,
    foldGroup: number,
  ) {
    this.aggregator = new StepAggregator(
      unit.end - unit.start,
      shardsPerStep,
      unit.layouts.batchNorms.map((b) => b.channels),
      foldGroup,
    );
  }

  /** A unit as restored from its durable state. */
  static restored(
    unit: ModelPartition,
    epoch: number,
    durable: DurableUnit,
    shardsPerStep: number,
    foldGroup: number,
  ): UnitHolder {
    return new UnitHolder(unit, epoch, versionOf(unit, durable), shardsPerStep, foldGroup);
  }

  /** Goes to a durable version, forgetting the step under way: the coordinator rolled back to it. */
  rebase(durable: DurableUnit): void {
    this.committedVersion = versionOf(this.unit, durable);
    this.restart();
  }

  get committed(): UnitVersion {
    return this.committedVersion;
  }

  get tentative(): UnitVersion | null {
    return this.tentativeVersion;
  }

  get complete(): boolean {
    return this.aggregator.complete;
  }

  /** Starts (again) the step from the committed version: a redone step forgets what an earlier attempt folded. */
  restart(): void {
    this.aggregator.reset();
    this.tentativeVersion = null;
  }

  /** False when the shard was already counted (a straggler's second copy: the first counts). */
  add(shard: number, contribution: ShardContribution): boolean {
    return this.aggregator.add(shard, contribution);
  }

  /** Applies the step's mean to a copy of the committed version; false when that made it non-finite. */
  update(lr: number, sgd: SgdSettings): boolean {
    const c = this.committedVersion;
    const next = { params: c.params.slice(), state: c.state.slice(), velocity: c.velocity.slice() };
    const channels = this.unit.layouts.batchNorms.map((b) => b.channels);
    const finite = applyStepInPlace(next, this.aggregator.result(), lr, sgd, channels);
    const version = c.version + 1;
    const message = ModelTensorCodec.encode(this.unit.layouts, next.params, next.state, {
      version,
      partition: this.unit.index,
    });
    this.tentativeVersion = { version, ...next, message };
    return finite;
  }

  /** The coordinator committed `version`: the tentative version becomes the committed one. False when it is not the one held. */
  promote(version: number): boolean {
    if (this.tentativeVersion?.version !== version) return false;
    this.committedVersion = this.tentativeVersion;
    this.tentativeVersion = null;
    this.aggregator.reset();
    return true;
  }

  /** The weights message of `version`, or null when this unit holds no such version. */
  message(version: number): Buffer | null {
    if (this.committedVersion.version === version) return this.committedVersion.message;
    if (this.tentativeVersion?.version === version) return this.tentativeVersion.message;
    return null;
  }

  /** The committed version as it is written durable: weights message and momentum message. */
  durable(): DurableUnit {
    const c = this.committedVersion;
    const momentum = TensorCodec.encode([{ name: 'velocity', shape: [c.velocity.length] }], [c.velocity], {
      version: c.version,
    });
    return { version: c.version, weights: c.message, momentum };
  }
}

function versionOf(unit: ModelPartition, durable: DurableUnit): UnitVersion {
  const { params, state } = ModelTensorCodec.decode(unit.layouts, durable.weights);
  const { data } = TensorCodec.decode(durable.momentum);
  if (data.length !== params.length)
    throw new RangeError(
      `unit ${unit.index}: momentum of ${data.length} values for ${params.length} weights`,
    );
  return {
    version: durable.version,
    params: params.slice(),
    state: state.slice(),
    velocity: data.slice(),
    // Its own copy: the message may be a view of a larger buffer.
    message: Buffer.from(durable.weights),
  };
}
