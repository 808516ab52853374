import { Module } from '@nestjs/common';
import { RepositoriesModule } from '../repositories/repositories.module';
import { ModelExportService } from './model-export.service';
import { ModelPagesController } from './model-pages.controller';
import { ModelPagesService } from './model-pages.service';
import { ModelsController } from './models.controller';
import { SampleImagesService } from './sample-images.service';

/**
 * Trained models out: each job's latest weights in the TF.js LayersModel format, and pages that run
 * a job's or a shipped model in the browser.
 */
@Module({
  imports: [RepositoriesModule],
  controllers: [ModelsController, ModelPagesController],
  providers: [ModelExportService, ModelPagesService, SampleImagesService],
})
export class ModelsModule {}
