import { Module } from '@nestjs/common';
import { RepositoriesModule } from '../repositories/repositories.module';
import { LeadershipService } from './leadership.service';

@Module({
  imports: [RepositoriesModule],
  providers: [LeadershipService],
  exports: [LeadershipService],
})
export class LeadershipModule {}
