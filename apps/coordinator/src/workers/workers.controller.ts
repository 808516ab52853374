import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { WorkerViewDto } from './dto/worker-view.dto';
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
}
