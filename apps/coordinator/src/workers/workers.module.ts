import { Module } from '@nestjs/common';
import { WorkersController } from './workers.controller';
import { WorkerRegistryRepository } from './worker-registry.repository';
import { WorkersService } from './workers.service';

@Module({
  controllers: [WorkersController],
  providers: [WorkersService, WorkerRegistryRepository],
  exports: [WorkersService],
})
export class WorkersModule {}
