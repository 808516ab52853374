import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { DEFAULT_SAMPLE_COUNT, SamplesQueryDto } from './dto/samples-query.dto';
import { SampleImagesDto } from './dto/sample-images.dto';
import { ModelPagesService } from './model-pages.service';

/**
 * A trained model in the browser: a page that runs it with TF.js on images the user picks and on
 * a few test images. Shipped models (MODELS_DIR) are at /models/<name>, jobs' at /jobs/<id>/model/view.
 */
@ApiTags('models')
@Controller()
export class ModelPagesController {
  constructor(private readonly pages: ModelPagesService) {}

  @Get('models/:name')
  @ApiOperation({ summary: 'A page that runs a shipped model (MODELS_DIR) in the browser with TF.js' })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The page', schema: { type: 'string' } })
  @ApiNotFoundResponse({ description: 'No such model in MODELS_DIR' })
  async shippedModelPage(
    @Param('name') name: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    return html(res, await this.pages.shippedModelPage(name));
  }

  @Get('models/:name/samples')
  @ApiOperation({
    summary:
      "A few test images of the dataset a shipped model was trained on, from this coordinator's DATA_ROOT",
  })
  @ApiOkResponse({ type: SampleImagesDto })
  @ApiNotFoundResponse({ description: 'No such model, or its dataset cannot be opened under DATA_ROOT' })
  shippedModelSamples(
    @Param('name') name: string,
    @Query() query: SamplesQueryDto,
  ): Promise<SampleImagesDto> {
    return this.pages.shippedModelSamples(name, query.count ?? DEFAULT_SAMPLE_COUNT);
  }

  @Get('jobs/:id/model/view')
  @ApiOperation({ summary: "A page that runs the job's latest model in the browser with TF.js" })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The page', schema: { type: 'string' } })
  @ApiNotFoundResponse({ description: 'No such job' })
  async jobModelPage(@Param('id') id: string, @Res({ passthrough: true }) res: Response): Promise<string> {
    return html(res, await this.pages.jobModelPage(id));
  }

  @Get('jobs/:id/samples')
  @ApiOperation({ summary: "A few test images of the job's dataset" })
  @ApiOkResponse({ type: SampleImagesDto })
  @ApiNotFoundResponse({ description: 'No such job, or its dataset has no in-memory test split' })
  jobSamples(@Param('id') id: string, @Query() query: SamplesQueryDto): Promise<SampleImagesDto> {
    return this.pages.jobSamples(id, query.count ?? DEFAULT_SAMPLE_COUNT);
  }
}

/** Typed as HTML only once the page exists: a 404 stays JSON, as every other error. */
function html(res: Response, page: string): string {
  res.type('html');
  return page;
}
