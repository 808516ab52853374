import { Module } from '@nestjs/common';
import { RepositoriesModule } from '../repositories/repositories.module';
import { ModelExportService } from './model-export.service';
import { ModelsController } from './models.controller';

/** Trained models out: each job's latest weights in the TF.js LayersModel format. */
@Module({
  imports: [RepositoriesModule],
  controllers: [ModelsController],
  providers: [ModelExportService],
})
export class ModelsModule {}
