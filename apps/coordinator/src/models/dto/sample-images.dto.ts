import { ApiProperty } from '@nestjs/swagger';

export class SampleImageDto {
  @ApiProperty({ description: 'Index of the image in the test split' })
  index!: number;
  @ApiProperty({ description: 'Its class index (into classNames)' })
  label!: number;
  @ApiProperty({ description: 'The image as it is stored, a PNG data URL' })
  png!: string;
}

export class SampleImagesDto {
  @ApiProperty({ type: [String] })
  classNames!: string[];
  @ApiProperty({ type: [SampleImageDto] })
  images!: SampleImageDto[];
}
