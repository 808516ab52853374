import { Controller, Get, Header, Param, ParseIntPipe, Query, StreamableFile } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { WEIGHTS_FILE } from '@resnet/model';
import { ModelExportService } from './model-export.service';

/** Lets web pages on other origins load the model with tf.loadLayersModel (plain GETs need no preflight). */
const ANY_ORIGIN = ['Access-Control-Allow-Origin', '*'] as const;

/**
 * A job's trained network in the TF.js LayersModel format. TF.js resolves weight paths against
 * the directory of the model.json URL, so each model.json route names the weights relative to
 * itself: `tf.loadLayersModel('<coordinator>/jobs/<id>/model')` and `…/model/model.json` both work.
 */
@ApiTags('models')
@Controller('jobs/:id/model')
export class ModelsController {
  constructor(private readonly models: ModelExportService) {}

  @Get()
  @Header(...ANY_ORIGIN)
  @ApiOperation({
    summary:
      "The job's latest weights as a TF.js LayersModel (model.json); load it with tf.loadLayersModel(this URL)",
    description:
      'Inputs are NHWC images normalised with userDefinedMetadata.normalization; outputs are logits over ' +
      'userDefinedMetadata.classNames. The weights manifest points at model/weights.bin.',
  })
  @ApiOkResponse({ description: 'model.json' })
  @ApiNotFoundResponse({ description: 'No such job' })
  modelJson(@Param('id') id: string) {
    return this.models.modelJson(id, `model/${WEIGHTS_FILE}`);
  }

  @Get('model.json')
  @Header(...ANY_ORIGIN)
  @ApiOperation({ summary: 'The same model.json, its weights manifest pointing at weights.bin beside it' })
  @ApiOkResponse({ description: 'model.json' })
  @ApiNotFoundResponse({ description: 'No such job' })
  modelJsonFile(@Param('id') id: string) {
    return this.models.modelJson(id, WEIGHTS_FILE);
  }

  @Get(WEIGHTS_FILE)
  @Header(...ANY_ORIGIN)
  @Header('Content-Type', 'application/octet-stream')
  @ApiOperation({ summary: 'The weights that model.json names (float32, in its manifest order)' })
  @ApiQuery({
    name: 'step',
    required: false,
    description: 'The step model.json was exported at; default the latest',
  })
  @ApiOkResponse({ description: 'Binary weights' })
  @ApiNotFoundResponse({ description: 'No such job' })
  @ApiConflictResponse({
    description: 'The job has moved past that step since model.json was fetched; fetch it again',
  })
  async weights(@Param('id') id: string, @Query('step', new ParseIntPipe({ optional: true })) step?: number) {
    return new StreamableFile(await this.models.weights(id, step));
  }
}
