import { Module } from '@nestjs/common';
import { RepositoriesModule } from '../repositories/repositories.module';
import { CheckpointService } from './checkpoint.service';

/** Jobs' checkpoints on disk: written as training goes, read back when Redis has lost a job. */
@Module({
  imports: [RepositoriesModule],
  providers: [CheckpointService],
  exports: [CheckpointService],
})
export class CheckpointsModule {}
