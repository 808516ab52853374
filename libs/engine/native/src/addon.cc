// N-API entry points of the oneDNN addon. The JavaScript side (libs/engine/src/kernels/onednn)
// passes the cpu backend's Float32Arrays straight in, so no tensor is copied on the way; every
// size is checked here so that a wrong shape throws instead of touching memory it does not own.
#include <node_api.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "convolution.h"
#include "elementwise.h"
#include "fused_batch_norm.h"
#include "matmul.h"
#include "pooling.h"

namespace resnet_onednn {
namespace {

// Thrown by the argument helpers; turned into a JavaScript TypeError at the boundary.
struct ArgumentError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void Check(napi_env env, napi_status status) {
  if (status != napi_ok) {
    const napi_extended_error_info* info = nullptr;
    napi_get_last_error_info(env, &info);
    throw std::runtime_error(std::string("N-API call failed: ") +
                             (info && info->error_message ? info->error_message : "unknown error"));
  }
}

struct Args {
  std::vector<napi_value> values;

  Args(napi_env env, napi_callback_info info, size_t expected) : values(expected) {
    size_t count = expected;
    Check(env, napi_get_cb_info(env, info, &count, values.data(), nullptr, nullptr));
    if (count < expected) {
      throw ArgumentError("expected " + std::to_string(expected) + " arguments, got " + std::to_string(count));
    }
  }
};

template <typename T>
struct TypedArrayView {
  T* data;
  size_t length;
};

struct TypedArrayInfo {
  napi_typedarray_type type;
  void* data;
  size_t length;
};

TypedArrayInfo GetTypedArrayInfo(napi_env env, napi_value value, const char* what) {
  bool is_typed_array = false;
  Check(env, napi_is_typedarray(env, value, &is_typed_array));
  if (!is_typed_array) throw ArgumentError(std::string(what) + " must be a typed array");
  TypedArrayInfo info{};
  Check(env, napi_get_typedarray_info(env, value, &info.type, &info.length, &info.data, nullptr, nullptr));
  return info;
}

template <typename T>
TypedArrayView<T> GetTypedArray(napi_env env, napi_value value, napi_typedarray_type want, const char* what) {
  const TypedArrayInfo info = GetTypedArrayInfo(env, value, what);
  if (info.type != want) throw ArgumentError(std::string(what) + " has the wrong typed-array type");
  return {static_cast<T*>(info.data), info.length};
}

void CheckLength(const char* what, size_t length, size_t want_length) {
  if (length != want_length) {
    throw ArgumentError(std::string(what) + " has " + std::to_string(length) + " elements, expected " +
                        std::to_string(want_length));
  }
}

TypedArrayView<float> Floats(napi_env env, napi_value value, const char* what, size_t want_length) {
  auto view = GetTypedArray<float>(env, value, napi_float32_array, what);
  CheckLength(what, view.length, want_length);
  return view;
}

// An activation: a Float32Array, or a Uint16Array of bfloat16 values.
struct Activation {
  void* data;
  bool bf16;
};

Activation ActivationArg(napi_env env, napi_value value, const char* what, size_t want_length) {
  const TypedArrayInfo info = GetTypedArrayInfo(env, value, what);
  if (info.type != napi_float32_array && info.type != napi_uint16_array) {
    throw ArgumentError(std::string(what) + " must be a Float32Array, or a Uint16Array of bfloat16 values");
  }
  CheckLength(what, info.length, want_length);
  return {info.data, info.type == napi_uint16_array};
}

int32_t Int(napi_env env, napi_value value) {
  int32_t out = 0;
  Check(env, napi_get_value_int32(env, value, &out));
  return out;
}

// An enum argument: one of the `count` values 0, 1, ..., count - 1.
int32_t EnumArg(napi_env env, napi_value value, int32_t count, const char* what) {
  const int32_t n = Int(env, value);
  if (n < 0 || n >= count) throw ArgumentError(std::string("unknown ") + what + " " + std::to_string(n));
  return n;
}

// A geometry argument: an Int32Array of `fields` entries, none negative and the first `positive`
// of them not 0 (sizes, kernel and strides; paddings may be 0).
const int32_t* GeometryArg(napi_env env, napi_value value, const char* what, int fields, int positive) {
  auto geometry = GetTypedArray<int32_t>(env, value, napi_int32_array, what);
  if (geometry.length != size_t(fields)) {
    throw ArgumentError(std::string(what) + " must have " + std::to_string(fields) + " entries");
  }
  for (int i = 0; i < fields; i++) {
    const int32_t field = geometry.data[i];
    if (field < 0 || (i < positive && field == 0)) {
      throw ArgumentError(std::string(what) + " has an empty or negative entry");
    }
  }
  return geometry.data;
}

double Double(napi_env env, napi_value value) {
  double out = 0;
  Check(env, napi_get_value_double(env, value, &out));
  return out;
}

bool IsNull(napi_env env, napi_value value) {
  napi_valuetype type;
  Check(env, napi_typeof(env, value, &type));
  return type == napi_null;
}

napi_value String(napi_env env, const std::string& s) {
  napi_value out;
  Check(env, napi_create_string_utf8(env, s.c_str(), s.size(), &out));
  return out;
}

// Runs `body`, turning C++ exceptions into JavaScript ones (N-API must not see an exception).
template <typename Body>
napi_value Guard(napi_env env, Body body) {
  try {
    return body();
  } catch (const ArgumentError& e) {
    napi_throw_type_error(env, nullptr, e.what());
  } catch (const dnnl::error& e) {
    napi_throw_error(env, nullptr, (std::string("oneDNN: ") + e.what()).c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

// An entry point that returns undefined: `body` gets the call's first `count` arguments, and the
// C++ exceptions it throws become JavaScript ones.
template <typename Body>
napi_value Procedure(napi_env env, napi_callback_info info, size_t count, Body body) {
  return Guard(env, [&]() -> napi_value {
    const Args args(env, info, count);
    body(args.values);
    return nullptr;
  });
}

const char* IsaName(dnnl_cpu_isa_t isa) {
  switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "isa_all";
  }
}

// info() -> { version, isa, threads, bf16 }
napi_value Info(napi_env env, napi_callback_info) {
  return Guard(env, [&] {
    const dnnl_version_t* v = dnnl_version();
    napi_value out, threads;
    Check(env, napi_create_object(env, &out));
    const std::string version = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
    Check(env, napi_set_named_property(env, out, "version", String(env, version)));
    Check(env, napi_set_named_property(env, out, "isa", String(env, IsaName(dnnl_get_effective_cpu_isa()))));
    Check(env, napi_create_int32(env, omp_get_max_threads(), &threads));
    Check(env, napi_set_named_property(env, out, "threads", threads));
    napi_value bf16;
    Check(env, napi_get_boolean(env, NativeBf16Convolutions(), &bf16));
    Check(env, napi_set_named_property(env, out, "bf16", bf16));
    return out;
  });
}

// setThreads(n): OpenMP threads for oneDNN and the loops in elementwise.cc.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  return Procedure(env, info, 1, [&](const std::vector<napi_value>& arg) {
    const int32_t threads = Int(env, arg[0]);
    if (threads < 1) throw ArgumentError("thread count must be at least 1, got " + std::to_string(threads));
    if (threads != omp_get_max_threads()) {
      omp_set_num_threads(threads);
      ClearConvolutionCache();
    }
  });
}

// conv(pass, a, b, out, geometry: Int32Array(15), precision); see ConvGeometry and RunConvolution.
// Activations are Float32Arrays or Uint16Arrays of bfloat16 values; weights and dw are Float32Arrays.
napi_value Conv(napi_env env, napi_callback_info info) {
  return Procedure(env, info, 6, [&](const std::vector<napi_value>& arg) {
    const int32_t pass = EnumArg(env, arg[0], 3, "conv pass");
    const auto precision = static_cast<ConvPrecision>(EnumArg(env, arg[5], 2, "conv precision"));
    const int32_t* f = GeometryArg(env, arg[4], "conv geometry", ConvGeometry::kFields, 11);
    const ConvGeometry g{f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12], f[13], f[14]};
    const size_t x = size_t(g.n) * g.h * g.w * g.ci, w = size_t(g.kh) * g.kw * g.ci * g.co,
                 y = size_t(g.n) * g.oh * g.ow * g.co;
    const auto kind = static_cast<ConvPass>(pass);
    const size_t a_size = kind == ConvPass::BackwardData ? y : x;
    const size_t b_size = kind == ConvPass::BackwardWeights ? y : w;
    const size_t out_size = kind == ConvPass::Forward ? y : kind == ConvPass::BackwardData ? x : w;
    const auto operand = [&](napi_value value, const char* what, size_t size, bool is_weights) -> ConvOperand {
      if (is_weights) return {Floats(env, value, what, size).data, false};
      const Activation activation = ActivationArg(env, value, what, size);
      return {activation.data, activation.bf16};
    };
    const ConvOperand a = operand(arg[1], "conv input a", a_size, false);
    const ConvOperand b = operand(arg[2], "conv input b", b_size, kind != ConvPass::BackwardWeights);
    const ConvOperand out = operand(arg[3], "conv output", out_size, kind == ConvPass::BackwardWeights);
    RunConvolution(kind, precision, g, a, b, out);
  });
}

// binary(op, a, b, out, dims, aStrides, bStrides: Int32Array)
napi_value BinaryEntry(napi_env env, napi_callback_info info) {
  return Procedure(env, info, 7, [&](const std::vector<napi_value>& arg) {
    const int32_t op = EnumArg(env, arg[0], 5, "binary op");
    auto dims = GetTypedArray<int32_t>(env, arg[4], napi_int32_array, "binary dims");
    auto a_strides = GetTypedArray<int32_t>(env, arg[5], napi_int32_array, "binary a strides");
    auto b_strides = GetTypedArray<int32_t>(env, arg[6], napi_int32_array, "binary b strides");
    const size_t rank = dims.length;
    if (rank < 1 || rank > kMaxRank || a_strides.length != rank || b_strides.length != rank) {
      throw ArgumentError("binary dims and strides must have the same length, 1 to " + std::to_string(kMaxRank));
    }
    std::vector<int64_t> d(rank), sa(rank), sb(rank);
    size_t out_size = 1, a_extent = 1, b_extent = 1;
    for (size_t i = 0; i < rank; i++) {
      d[i] = dims.data[i];
      sa[i] = a_strides.data[i];
      sb[i] = b_strides.data[i];
      if (d[i] < 1 || sa[i] < 0 || sb[i] < 0) throw ArgumentError("binary dims must be positive, strides >= 0");
      out_size *= d[i];
      a_extent += (d[i] - 1) * sa[i];
      b_extent += (d[i] - 1) * sb[i];
    }
    if (sa[rank - 1] > 1 || sb[rank - 1] > 1) throw ArgumentError("binary innermost strides must be 0 or 1");
    auto a = GetTypedArray<float>(env, arg[1], napi_float32_array, "binary a");
    auto b = GetTypedArray<float>(env, arg[2], napi_float32_array, "binary b");
    auto out = Floats(env, arg[3], "binary output", out_size);
    if (a.length < a_extent || b.length < b_extent) throw ArgumentError("binary input smaller than its strides reach");
    Binary(static_cast<BinaryOp>(op), static_cast<int>(rank), d.data(), sa.data(), sb.data(), a.data, b.data, out.data);
  });
}

// unary(op, x, out, alpha)
napi_value UnaryEntry(napi_env env, napi_callback_info info) {
  return Procedure(env, info, 4, [&](const std::vector<napi_value>& arg) {
    const int32_t op = EnumArg(env, arg[0], 3, "unary op");
    auto x = GetTypedArray<float>(env, arg[1], napi_float32_array, "unary x");
    auto out = Floats(env, arg[2], "unary output", x.length);
    Unary(static_cast<UnaryOp>(op), x.data, out.data, static_cast<int64_t>(x.length),
          static_cast<float>(Double(env, arg[3])));
  });
}

// reduceSum(x, outer, inner, channels, scale, out)
napi_value ReduceSumEntry(napi_env env, napi_callback_info info) {
  return Procedure(env, info, 6, [&](const std::vector<napi_value>& arg) {
    const int64_t outer = Int(env, arg[1]), inner = Int(env, arg[2]),
                  channels = Int(env, arg[3]);
    if (outer < 1 || inner < 1 || channels < 1) throw ArgumentError("reduceSum sizes must be positive");
    auto x = Floats(env, arg[0], "reduceSum x", size_t(outer * inner * channels));
    auto out = Floats(env, arg[5], "reduceSum output", size_t(outer * channels));
    ReduceSum(x.data, outer, inner, channels, Double(env, arg[4]), out.data);
  });
}

// matMul(a, b, out, geometry: Int32Array(7), bf16): geometry is batchA, batchB, m, n, k, transposeA, transposeB.
napi_value MatMulEntry(napi_env env, napi_callback_info info) {
  return Procedure(env, info, 5, [&](const std::vector<napi_value>& arg) {
    auto geometry = GetTypedArray<int32_t>(env, arg[3], napi_int32_array, "matMul geometry");
    if (geometry.length != 7) throw ArgumentError("matMul geometry must have 7 entries");
    const int32_t* f = geometry.data;
    const MatMulGeometry g{f[0], f[1], f[2], f[3], f[4], f[5] != 0, f[6] != 0};
    const int64_t batch = std::max(g.batch_a, g.batch_b);
    if (g.batch_a < 1 || g.batch_b < 1 || g.m < 1 || g.n < 1 || g.k < 1 || batch % g.batch_a || batch % g.batch_b) {
      throw ArgumentError("matMul geometry has an empty dim or batches that do not broadcast");
    }
    auto a = Floats(env, arg[0], "matMul a", size_t(g.batch_a * g.m * g.k));
    auto b = Floats(env, arg[1], "matMul b", size_t(g.batch_b * g.k * g.n));
    auto out = Floats(env, arg[2], "matMul output", size_t(batch * g.m * g.n));
    bool bf16 = false;
    Check(env, napi_get_value_bool(env, arg[4], &bf16));
    MatMul(g, bf16, a.data, b.data, out.data);
  });
}

PoolGeometry GetPoolGeometry(napi_env env, napi_value value) {
  const int32_t* f = GeometryArg(env, value, "pool geometry", PoolGeometry::kFields, 10);
  return {f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11]};
}

// maxPool(x, out, geometry: Int32Array(12)): n, h, w, c, kh, kw, oh, ow, strideH, strideW, padTop, padLeft.
napi_value MaxPoolEntry(napi_env env, napi_callback_info info) {
  return Procedure(env, info, 3, [&](const std::vector<napi_value>& arg) {
    const PoolGeometry g = GetPoolGeometry(env, arg[2]);
    auto x = Floats(env, arg[0], "maxPool x", size_t(g.n) * g.h * g.w * g.c);
    auto out = Floats(env, arg[1], "maxPool output", size_t(g.n) * g.oh * g.ow * g.c);
    MaxPool(g, x.data, out.data);
  });
}

// maxPoolGrad(dy, x, dx, geometry)
napi_value MaxPoolGradEntry(napi_env env, napi_callback_info info) {
  return Procedure(env, info, 4, [&](const std::vector<napi_value>& arg) {
    const PoolGeometry g = GetPoolGeometry(env, arg[3]);
    const size_t x_size = size_t(g.n) * g.h * g.w * g.c;
    auto dy = Floats(env, arg[0], "maxPoolGrad dy", size_t(g.n) * g.oh * g.ow * g.c);
    auto x = Floats(env, arg[1], "maxPoolGrad x", x_size);
    auto dx = Floats(env, arg[2], "maxPoolGrad output", x_size);
    MaxPoolGrad(g, x.data, dy.data, dx.data);
  });
}

// The [rows, channels] view of NHWC activations of `elements` values.
BatchNormShape GetBatchNormShape(napi_env env, napi_value channels_value, size_t elements) {
  const int32_t channels = Int(env, channels_value);
  if (channels < 1 || elements == 0 || elements % size_t(channels) != 0) {
    throw ArgumentError("batch norm needs a positive channel count that divides the activations' size");
  }
  return {static_cast<int64_t>(elements / size_t(channels)), channels};
}

// fusedBatchNorm(x, scale, offset, residual | null, y, mean, variance, channels, epsilon, relu);
// x, residual and y all Float32Arrays, or all Uint16Arrays of bfloat16 values.
napi_value FusedBatchNormEntry(napi_env env, napi_callback_info info) {
  return Procedure(env, info, 10, [&](const std::vector<napi_value>& arg) {
    const size_t length = GetTypedArrayInfo(env, arg[0], "fusedBatchNorm x").length;
    const Activation x = ActivationArg(env, arg[0], "fusedBatchNorm x", length);
    const BatchNormShape s = GetBatchNormShape(env, arg[7], length);
    const size_t c = size_t(s.channels);
    auto scale = Floats(env, arg[1], "fusedBatchNorm scale", c);
    auto offset = Floats(env, arg[2], "fusedBatchNorm offset", c);
    const Activation y = ActivationArg(env, arg[4], "fusedBatchNorm y", length);
    const Activation residual = IsNull(env, arg[3]) ? Activation{nullptr, x.bf16}
                                                    : ActivationArg(env, arg[3], "fusedBatchNorm residual", length);
    if (y.bf16 != x.bf16 || residual.bf16 != x.bf16) {
      throw ArgumentError("fusedBatchNorm x, residual and y must be stored alike");
    }
    auto mean = Floats(env, arg[5], "fusedBatchNorm mean", c);
    auto variance = Floats(env, arg[6], "fusedBatchNorm variance", c);
    bool relu = false;
    Check(env, napi_get_value_bool(env, arg[9], &relu));
    const float epsilon = static_cast<float>(Double(env, arg[8]));
    if (x.bf16) {
      FusedBatchNorm(s, static_cast<const uint16_t*>(x.data), scale.data, offset.data,
                     static_cast<const uint16_t*>(residual.data), epsilon, relu, static_cast<uint16_t*>(y.data),
                     mean.data, variance.data);
    } else {
      FusedBatchNorm(s, static_cast<const float*>(x.data), scale.data, offset.data,
                     static_cast<const float*>(residual.data), epsilon, relu, static_cast<float*>(y.data), mean.data,
                     variance.data);
    }
  });
}

// fusedBatchNormGrad(dy, x, scale, mean, variance, y, dx, dScale, dOffset, dResidual | null, channels, epsilon, relu);
// x, y and dx all Float32Arrays, or all Uint16Arrays of bfloat16 values.
napi_value FusedBatchNormGradEntry(napi_env env, napi_callback_info info) {
  return Procedure(env, info, 13, [&](const std::vector<napi_value>& arg) {
    const size_t length = GetTypedArrayInfo(env, arg[1], "fusedBatchNormGrad x").length;
    const Activation x = ActivationArg(env, arg[1], "fusedBatchNormGrad x", length);
    const Activation dx = ActivationArg(env, arg[6], "fusedBatchNormGrad dx", length);
    const Activation y = ActivationArg(env, arg[5], "fusedBatchNormGrad y", length);
    if (dx.bf16 != x.bf16 || y.bf16 != x.bf16) throw ArgumentError("fusedBatchNormGrad x, y and dx must be stored alike");
    const BatchNormShape s = GetBatchNormShape(env, arg[10], length);
    const size_t c = size_t(s.channels);
    auto dy = Floats(env, arg[0], "fusedBatchNormGrad dy", length);
    auto scale = Floats(env, arg[2], "fusedBatchNormGrad scale", c);
    auto mean = Floats(env, arg[3], "fusedBatchNormGrad mean", c);
    auto variance = Floats(env, arg[4], "fusedBatchNormGrad variance", c);
    auto d_scale = Floats(env, arg[7], "fusedBatchNormGrad dScale", c);
    auto d_offset = Floats(env, arg[8], "fusedBatchNormGrad dOffset", c);
    float* d_residual =
        IsNull(env, arg[9]) ? nullptr : Floats(env, arg[9], "fusedBatchNormGrad dResidual", length).data;
    bool relu = false;
    Check(env, napi_get_value_bool(env, arg[12], &relu));
    const float epsilon = static_cast<float>(Double(env, arg[11]));
    if (x.bf16) {
      FusedBatchNormGrad(s, dy.data, static_cast<const uint16_t*>(x.data), scale.data, mean.data, variance.data,
                         static_cast<const uint16_t*>(y.data), epsilon, relu, static_cast<uint16_t*>(dx.data),
                         d_scale.data, d_offset.data, d_residual);
    } else {
      FusedBatchNormGrad(s, dy.data, static_cast<const float*>(x.data), scale.data, mean.data, variance.data,
                         static_cast<const float*>(y.data), epsilon, relu, static_cast<float*>(dx.data), d_scale.data,
                         d_offset.data, d_residual);
    }
  });
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor functions[] = {
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"conv", nullptr, Conv, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"binary", nullptr, BinaryEntry, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"unary", nullptr, UnaryEntry, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"reduceSum", nullptr, ReduceSumEntry, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"matMul", nullptr, MatMulEntry, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"maxPool", nullptr, MaxPoolEntry, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"maxPoolGrad", nullptr, MaxPoolGradEntry, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"fusedBatchNorm", nullptr, FusedBatchNormEntry, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"fusedBatchNormGrad", nullptr, FusedBatchNormGradEntry, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(functions) / sizeof(functions[0]), functions);
  return exports;
}

}  // namespace
}  // namespace resnet_onednn

NAPI_MODULE(NODE_GYP_MODULE_NAME, resnet_onednn::Init)
