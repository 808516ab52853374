import { ModelLayouts, ParameterLayout } from '@resnet/model';
import { CodecError, DecodeOptions, EncodeOptions, TensorCodec, TensorEntry } from '@resnet/protocol';

/**
 * A message holding one vector in the model's parameter layout and one in its batch-norm state
 * layout: weights (parameters + running statistics) from the coordinator, or gradients + batch
 * statistics from a worker. The decoder checks names, shapes and sizes against the layouts, so a
 * message from another model or version is rejected rather than misread. Decoded fp32 vectors
 * share memory with the message (see TensorMessage.data): copy them before changing them.
 */
export interface ModelTensors<M> {
  readonly params: Float32Array;
  readonly state: Float32Array;
  readonly meta: M;
}

function entries(layout: ParameterLayout): TensorEntry[] {
  return layout.tensors.map((t) => ({ name: t.name, shape: t.shape }));
}

export const ModelTensorCodec = {
  /** A residual in `options` (error feedback) covers the parameter vector: the params come first. */
  encode<M>(
    layouts: ModelLayouts,
    params: Float32Array,
    state: Float32Array,
    meta: M,
    options: EncodeOptions = {},
  ): Buffer {
    if (params.length !== layouts.params.size || state.length !== layouts.state.size) {
      throw new CodecError(
        `vectors of ${params.length}/${state.length} values do not fit the model's ${layouts.params.size}/${layouts.state.size}`,
      );
    }
    return TensorCodec.encode(
      [...entries(layouts.params), ...entries(layouts.state)],
      [params, state],
      meta,
      options,
    );
  },

  decode<M>(layouts: ModelLayouts, buf: Buffer, options: DecodeOptions = {}): ModelTensors<M> {
    const message = TensorCodec.decode<M>(buf, options);
    const expected = [...entries(layouts.params), ...entries(layouts.state)];
    if (message.tensors.length !== expected.length) {
      throw new CodecError(
        `message holds ${message.tensors.length} tensors, the model has ${expected.length}`,
      );
    }
    message.tensors.forEach((t, i) => {
      const e = expected[i];
      if (t.name !== e.name || t.shape.join('x') !== e.shape.join('x')) {
        throw new CodecError(
          `tensor ${i} is ${t.name} [${t.shape}], the model expects ${e.name} [${e.shape}]`,
        );
      }
    });
    const split = layouts.params.size;
    return {
      params: message.data.subarray(0, split),
      state: message.data.subarray(split),
      meta: message.meta,
    };
  },
};
