import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';

export class EventsQueryDto {
  @ApiPropertyOptional({ description: 'Also stream this job’s step and eval metrics', example: '3f9c2a1b' })
  @IsOptional()
  @Matches(/^[\w-]{1,64}$/, { message: 'job must be a job id' })
  job?: string;
}
