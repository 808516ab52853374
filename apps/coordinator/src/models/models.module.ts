import { Module } from '@nestjs/common';
import { TrainingModule } from '../training/training.module';
import { ModelExportService } from './model-export.service';
import { ModelsController } from './models.controller';

/** Trained models out: each job's latest weights in the TF.js LayersModel format. */
@Module({
  imports: [TrainingModule],
  controllers: [ModelsController],
  providers: [ModelExportService],
})
export class ModelsModule {}
