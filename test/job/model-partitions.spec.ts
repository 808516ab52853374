import * as assert from 'node:assert/strict';
import { mulberry32 } from '@resnet/data';
import { architectureFor, initialWeights, layoutsOf } from '@resnet/model';
import { modelPartitions, PartitionedModelCodec } from '@resnet/job';

const layouts = layoutsOf(architectureFor('resnet20', { numClasses: 10 }));

describe('modelPartitions', () => {
  it('splits the parameter vector into runs of whole tensors of about equal size', () => {
    for (const count of [1, 2, 3, 7, 16]) {
      const partitions = modelPartitions(layouts, count);
      assert.equal(partitions.length, count);
      assert.equal(partitions[0].start, 0);
      assert.equal(partitions[count - 1].end, layouts.params.size);
      const largest = Math.max(...layouts.params.tensors.map((t) => t.size));
      partitions.forEach((p, i) => {
        if (i > 0) assert.equal(p.start, partitions[i - 1].end);
        assert.equal(p.layouts.params.size, p.end - p.start);
        assert.ok(
          layouts.params.tensors.some((t) => t.offset === p.start),
          `partition ${i} starts inside a tensor`,
        );
        // Each cut is the tensor boundary nearest an equal share, so no part strays further than a tensor.
        assert.ok(
          Math.abs(p.end - p.start - layouts.params.size / count) <= 2 * largest,
          `partition ${i} of ${count}`,
        );
        assert.equal(p.layouts.state.size, i === 0 ? layouts.state.size : 0);
      });
    }
  });

  it('refuses more partitions than the model has tensors', () => {
    assert.throws(() => modelPartitions(layouts, layouts.params.tensors.length + 1), /cannot be split/);
    assert.throws(() => modelPartitions(layouts, 0), RangeError);
  });
});

describe('PartitionedModelCodec', () => {
  const random = mulberry32(7);
  const weights = initialWeights(layouts, random);
  const velocity = Float32Array.from({ length: layouts.params.size }, () => random() - 0.5);

  it('sends a model through its partitions and back unchanged', () => {
    for (const count of [1, 4]) {
      const partitions = modelPartitions(layouts, count);
      const messages = PartitionedModelCodec.encodeWeights(partitions, weights, { version: 5 });
      assert.equal(messages.length, count);
      assert.deepEqual(PartitionedModelCodec.decodeWeights(partitions, layouts, messages), weights);
      const moments = PartitionedModelCodec.encodeVelocity(partitions, velocity);
      assert.deepEqual(PartitionedModelCodec.decodeVelocity(partitions, moments), velocity);
    }
  });

  it('refuses partition messages in the wrong order', () => {
    const partitions = modelPartitions(layouts, 2);
    const messages = PartitionedModelCodec.encodeWeights(partitions, weights, { version: 5 });
    assert.throws(() => PartitionedModelCodec.decodeWeights(partitions, layouts, [messages[1], messages[0]]));
  });
});
