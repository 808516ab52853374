import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';

export class RestoreJobDto {
  @ApiProperty({
    example: '3f9c2a1b/step-0000390',
    description: "Checkpoint folder, relative to the coordinator's CHECKPOINT_DIR",
  })
  @IsString()
  @MaxLength(200)
  @Matches(/^[\w-]+\/step-\d+$/, {
    message: 'checkpoint must look like <jobId>/step-<N>, a folder under CHECKPOINT_DIR',
  })
  checkpoint!: string;
}
