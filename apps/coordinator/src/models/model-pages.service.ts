import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { ExportedModelMetadata } from '@resnet/job';
import { COORDINATOR_CONFIG, CoordinatorConfig } from '../coordinator.config';
import { dashboardPublicDir } from '../public-dir';
import { JobRepository } from '../repositories/job.repository';
import { SampleImagesDto } from './dto/sample-images.dto';
import { SampleImagesService } from './sample-images.service';

/** Shipped model names are folder names under MODELS_DIR: nothing that could leave it. */
const MODEL_NAME = /^[\w][\w.-]{0,99}$/;

/** What a model page needs: where its model.json and its sample images are, relative to the page's base. */
interface ModelPage {
  readonly title: string;
  /** The page's path back to the coordinator's root (its <base href>). */
  readonly root: string;
  readonly modelUrl: string;
  readonly samplesUrl: string;
}

/** The pages of shipped models and of jobs' models, and the test images they show. */
@Injectable()
export class ModelPagesService {
  private template: Promise<string> | null = null;

  constructor(
    @Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig,
    private readonly jobs: JobRepository,
    private readonly samples: SampleImagesService,
  ) {}

  async shippedModelPage(name: string): Promise<string> {
    await this.shippedModelMetadata(name);
    return this.render({
      title: name,
      root: '../',
      modelUrl: `models/${name}/model.json`,
      samplesUrl: `models/${name}/samples`,
    });
  }

  async shippedModelSamples(name: string, count: number): Promise<SampleImagesDto> {
    const { dataset } = await this.shippedModelMetadata(name);
    if (!dataset) throw new NotFoundException(`model ${name} does not say which dataset it was trained on`);
    return this.samples.samples(dataset, count);
  }

  async jobModelPage(id: string): Promise<string> {
    const job = await this.jobs.get(id);
    if (!job) throw new NotFoundException(`no job with id ${id}`);
    return this.render({
      title: job.spec.name,
      root: '../../../',
      modelUrl: `jobs/${id}/model/model.json`,
      samplesUrl: `jobs/${id}/samples`,
    });
  }

  async jobSamples(id: string, count: number): Promise<SampleImagesDto> {
    const job = await this.jobs.get(id);
    if (!job) throw new NotFoundException(`no job with id ${id}`);
    return this.samples.samples(job.spec.dataset, count);
  }

  private async shippedModelMetadata(name: string): Promise<Partial<ExportedModelMetadata>> {
    const missing = new NotFoundException(
      `no model called ${name} in ${this.config.modelsDir} (MODELS_DIR): a shipped model is a folder with model.json and weights.bin`,
    );
    if (!MODEL_NAME.test(name)) throw missing;
    try {
      const json = JSON.parse(
        await fs.readFile(path.join(this.config.modelsDir, name, 'model.json'), 'utf8'),
      );
      return (json.userDefinedMetadata ?? {}) as Partial<ExportedModelMetadata>;
    } catch {
      throw missing;
    }
  }

  private async render(page: ModelPage): Promise<string> {
    this.template ??= fs.readFile(path.join(dashboardPublicDir(), 'model.html'), 'utf8');
    const html = await this.template;
    // Every value is a validated name or id, or a literal: nothing to escape beyond the attribute quotes.
    return html
      .replaceAll('%TITLE%', escapeHtml(page.title))
      .replaceAll('%ROOT%', page.root)
      .replaceAll('%MODEL_URL%', page.modelUrl)
      .replaceAll('%SAMPLES_URL%', page.samplesUrl);
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
