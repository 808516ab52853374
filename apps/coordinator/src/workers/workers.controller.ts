import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { WorkerReleaseDto, WorkerViewDto } from './dto/worker-view.dto';
import { WorkersService } from './workers.service';

@ApiTags('workers')
@Controller('workers')
export class WorkersController {
  constructor(private readonly workers: WorkersService) {}

  @Get()
  @ApiOperation({ summary: 'Workers that sent a heartbeat within the last hour, alive or gone' })
  @ApiOkResponse({ type: [WorkerViewDto] })
  list() {
    return this.workers.list();
  }

  @Post(':id/release')
  @HttpCode(200)
  @ApiOperation({ summary: 'Lift a worker’s quarantine and forget its rejected results' })
  @ApiOkResponse({ type: WorkerReleaseDto })
  @ApiNotFoundResponse({ description: 'No such worker is quarantined or has sent a recent heartbeat' })
  release(@Param('id') id: string) {
    return this.workers.release(id);
  }
}
