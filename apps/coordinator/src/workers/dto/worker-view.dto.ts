import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Precision, PRECISIONS, WorkerAdapter, WorkerView } from '@resnet/protocol';
import { WorkerRelease } from '../workers.service';

export class WorkerAdapterDto implements WorkerAdapter {
  @ApiProperty({ example: 'nvidia' }) vendor!: string;
  @ApiProperty({ example: 'hopper' }) architecture!: string;
  @ApiProperty() device!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ description: 'A software adapter: WebGPU works, without a GPU’s speed' })
  isFallbackAdapter!: boolean;
}

/** Response shape for OpenAPI; `implements` keeps it in step with WorkerView. */
export class WorkerViewDto implements WorkerView {
  @ApiProperty({ example: 'node-3-local-1' }) id!: string;
  @ApiProperty() host!: string;
  @ApiProperty({ type: 'integer' }) pid!: number;
  @ApiProperty({ example: 'wasm' }) backend!: string;
  @ApiProperty({ example: 'cpu' }) device!: string;
  @ApiPropertyOptional({ type: WorkerAdapterDto, description: 'The GPU adapter of a WebGPU worker' })
  adapter?: WorkerAdapterDto;
  @ApiProperty({ type: Number, nullable: true, description: 'Throughput of its last training shard' })
  imagesPerSecond!: number | null;
  @ApiProperty({
    enum: PRECISIONS,
    isArray: true,
    description:
      'Precisions it computes jobs in (bf16: an onednn worker on a CPU with native bf16); it takes shards of these only',
  })
  precisions!: Precision[];
  @ApiProperty({ type: String, nullable: true, description: 'Shard task id it is computing, if any' })
  currentShard!: string | null;
  @ApiProperty({ description: 'Milliseconds since the epoch' }) startedAt!: number;
  @ApiProperty({ description: 'Last heartbeat, milliseconds since the epoch' }) lastSeen!: number;
  @ApiProperty({ description: 'Heartbeat seen within the last 15 s' }) alive!: boolean;
  @ApiProperty({
    description: 'Its results kept being rejected (corrupt or non-finite); it takes no more shards',
  })
  quarantined!: boolean;
}

export class WorkerReleaseDto implements WorkerRelease {
  @ApiProperty({ example: 'node-3-local-1' }) id!: string;
  @ApiProperty({ description: 'False when it was not quarantined; its fault count was reset all the same' })
  wasQuarantined!: boolean;
}
