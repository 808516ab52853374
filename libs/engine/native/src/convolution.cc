#include "convolution.h"

#include <cstdlib>
#include <map>
#include <memory>
#include <new>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <string>
#include <tuple>

namespace resnet_onednn {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;
constexpr auto kBf16 = memory::data_type::bf16;

dnnl::engine& CpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& CpuStream() {
  static dnnl::stream stream(CpuEngine());
  return stream;
}

// The user's weights (HWIO) and the layout the primitive prefers for them (`any`) usually differ;
// a reorder converts between them on every call (weights are small next to activations).
struct WeightsBridge {
  memory user;
  memory primitive;
  std::optional<dnnl::reorder> reorder;  // absent when the primitive takes HWIO as is

  WeightsBridge(const memory::desc& user_md, const memory::desc& primitive_md, bool user_is_source) {
    auto& engine = CpuEngine();
    user = memory(user_md, engine, DNNL_MEMORY_NONE);
    if (primitive_md == user_md) {
      primitive = user;
      return;
    }
    primitive = memory(primitive_md, engine);
    reorder = user_is_source ? dnnl::reorder(user, primitive) : dnnl::reorder(primitive, user);
  }

  void ToPrimitive() {
    if (reorder) reorder->execute(CpuStream(), user, primitive);
  }
  void ToUser() {
    if (reorder) reorder->execute(CpuStream(), primitive, user);
  }
};

// Grow-only buffers for the bf16 copies of a call's activation inputs (at most two per call). Calls
// run one at a time, so every plan shares them: a copy per plan would keep one per shape and pass,
// and a bf16 step would then hold more memory than a float32 one.
void* ActivationScratch(int slot, size_t bytes) {
  struct Buffer {
    void* data = nullptr;
    size_t capacity = 0;
  };
  static Buffer buffers[2];
  Buffer& buffer = buffers[slot];
  if (bytes > buffer.capacity) {
    std::free(buffer.data);
    // 64-byte lines: the JIT kernels' vector loads stay within one cache line.
    const size_t rounded = (bytes + 63) / 64 * 64;
    buffer.data = std::aligned_alloc(64, rounded);
    if (!buffer.data) throw std::bad_alloc();
    buffer.capacity = rounded;
  }
  return buffer.data;
}

// An NHWC activation input as the primitive reads it: itself when it is stored in the compute type,
// else its copy in that type (one reorder pass; to bf16, oneDNN rounds to nearest even) in scratch
// slot `slot`.
struct ActivationInput {
  memory user;
  memory primitive;
  std::optional<dnnl::reorder> reorder;
  int slot;

  ActivationInput(const memory::desc& user_md, const memory::desc& primitive_md, int scratch_slot)
      : slot(scratch_slot) {
    auto& engine = CpuEngine();
    user = memory(user_md, engine, DNNL_MEMORY_NONE);
    if (primitive_md == user_md) {
      primitive = user;
      return;
    }
    primitive = memory(primitive_md, engine, DNNL_MEMORY_NONE);
    reorder = dnnl::reorder(user, primitive);
  }

  memory& Prepare(void* data) {
    user.set_data_handle(data);
    if (reorder) {
      primitive.set_data_handle(ActivationScratch(slot, primitive.get_desc().get_size()));
      reorder->execute(CpuStream(), user, primitive);
    }
    return primitive;
  }
};

// Activations stay NHWC end to end: converting them to oneDNN's blocked layouts and back costs
// about as much as the blocked kernels save on ResNet-sized tensors.
class ConvPlan {
 public:
  // a_bf16, b_bf16, out_bf16: how the caller stores the activations among a, b and out.
  ConvPlan(ConvPass pass, ConvPrecision precision, const ConvGeometry& g, bool a_bf16, bool b_bf16, bool out_bf16)
      : pass_(pass) {
    const memory::dims x_dims = {g.n, g.ci, g.h, g.w};
    const memory::dims w_dims = {g.co, g.ci, g.kh, g.kw};
    const memory::dims y_dims = {g.n, g.co, g.oh, g.ow};
    // Inputs in the compute type; outputs in the caller's type (dw: float32, the accumulation's).
    const auto compute = precision == ConvPrecision::Bf16 ? kBf16 : kF32;
    const auto stored = [](bool bf16) { return bf16 ? kBf16 : kF32; };
    const bool x_bf16 = pass == ConvPass::BackwardData ? out_bf16 : a_bf16;
    const bool y_bf16 = pass == ConvPass::Forward ? out_bf16 : pass == ConvPass::BackwardData ? a_bf16 : b_bf16;
    const memory::desc x_md(x_dims, stored(x_bf16), Tag::nhwc);
    const memory::desc y_md(y_dims, stored(y_bf16), Tag::nhwc);
    const memory::desc x_compute_md(x_dims, compute, Tag::nhwc);
    const memory::desc y_compute_md(y_dims, compute, Tag::nhwc);
    const memory::desc w_user_md(w_dims, kF32, Tag::hwio);
    const memory::desc w_compute_md(w_dims, compute, Tag::any);
    const memory::desc w_any_md(w_dims, kF32, Tag::any);
    const memory::dims strides = {g.stride_h, g.stride_w};
    const memory::dims pad_l = {g.pad_top, g.pad_left};
    const memory::dims pad_r = {g.pad_bottom, g.pad_right};
    auto& engine = CpuEngine();

    const dnnl::convolution_forward::primitive_desc forward(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                        x_compute_md, w_compute_md, y_md, strides, pad_l, pad_r),
        engine);
    switch (pass) {
      case ConvPass::Forward:
        weights_.emplace(w_user_md, forward.weights_desc(), true);
        a_.emplace(x_md, x_compute_md, 0);
        out_ = memory(y_md, engine, DNNL_MEMORY_NONE);
        primitive_ = dnnl::convolution_forward(forward);
        break;
      case ConvPass::BackwardData: {
        const dnnl::convolution_backward_data::primitive_desc pd(
            dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, x_md, w_compute_md,
                                                  y_compute_md, strides, pad_l, pad_r),
            engine, forward);
        weights_.emplace(w_user_md, pd.weights_desc(), true);
        a_.emplace(y_md, y_compute_md, 0);
        out_ = memory(x_md, engine, DNNL_MEMORY_NONE);
        primitive_ = dnnl::convolution_backward_data(pd);
        break;
      }
      case ConvPass::BackwardWeights: {
        const dnnl::convolution_backward_weights::primitive_desc pd(
            dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, x_compute_md, w_any_md,
                                                     y_compute_md, strides, pad_l, pad_r),
            engine, forward);
        weights_.emplace(w_user_md, pd.diff_weights_desc(), false);
        a_.emplace(x_md, x_compute_md, 0);
        b_.emplace(y_md, y_compute_md, 1);
        primitive_ = dnnl::convolution_backward_weights(pd);
        break;
      }
    }
  }

  void Run(void* a, void* b, void* out) {
    auto& stream = CpuStream();
    memory& a_memory = a_->Prepare(a);
    switch (pass_) {
      case ConvPass::Forward:
        weights_->user.set_data_handle(b);
        out_.set_data_handle(out);
        weights_->ToPrimitive();
        primitive_.execute(stream,
                           {{DNNL_ARG_SRC, a_memory}, {DNNL_ARG_WEIGHTS, weights_->primitive}, {DNNL_ARG_DST, out_}});
        break;
      case ConvPass::BackwardData:
        weights_->user.set_data_handle(b);
        out_.set_data_handle(out);
        weights_->ToPrimitive();
        primitive_.execute(
            stream, {{DNNL_ARG_DIFF_DST, a_memory}, {DNNL_ARG_WEIGHTS, weights_->primitive}, {DNNL_ARG_DIFF_SRC, out_}});
        break;
      case ConvPass::BackwardWeights:
        weights_->user.set_data_handle(out);
        primitive_.execute(stream, {{DNNL_ARG_SRC, a_memory},
                                    {DNNL_ARG_DIFF_DST, b_->Prepare(b)},
                                    {DNNL_ARG_DIFF_WEIGHTS, weights_->primitive}});
        weights_->ToUser();
        break;
    }
    stream.wait();
  }

 private:
  ConvPass pass_;
  dnnl::primitive primitive_;
  std::optional<WeightsBridge> weights_;
  std::optional<ActivationInput> a_, b_;
  memory out_;
};

// (pass, precision, which of a, b and out are bf16, geometry)
using PlanKey = std::tuple<int, int, int, std::array<int, ConvGeometry::kFields>>;

// A training run uses a few dozen shapes; the bound only stops a long-lived process that sees ever
// new shapes (e.g. varying evaluation batch sizes) from keeping every JIT kernel it ever built.
constexpr size_t kMaxCachedPlans = 512;

std::map<PlanKey, std::unique_ptr<ConvPlan>>& PlanCache() {
  static std::map<PlanKey, std::unique_ptr<ConvPlan>> cache;
  return cache;
}

}  // namespace

std::array<int, ConvGeometry::kFields> ConvGeometry::AsArray() const {
  return {n, h, w, ci, co, kh, kw, oh, ow, stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right};
}

void RunConvolution(ConvPass pass, ConvPrecision precision, const ConvGeometry& g, ConvOperand a, ConvOperand b,
                    ConvOperand out) {
  auto& cache = PlanCache();
  const int stored = int(a.bf16) | int(b.bf16) << 1 | int(out.bf16) << 2;
  const PlanKey key{static_cast<int>(pass), static_cast<int>(precision), stored, g.AsArray()};
  auto it = cache.find(key);
  if (it == cache.end()) {
    if (cache.size() >= kMaxCachedPlans) cache.clear();
    it = cache.emplace(key, std::make_unique<ConvPlan>(pass, precision, g, a.bf16, b.bf16, out.bf16)).first;
  }
  it->second->Run(a.data, b.data, out.data);
}

void ClearConvolutionCache() { PlanCache().clear(); }

bool NativeBf16Convolutions() {
  // A ResNet block's 3x3 convolution, as ConvPlan builds it; oneDNN names the implementation it picked.
  const memory::dims x_dims = {2, 16, 8, 8}, w_dims = {16, 16, 3, 3};
  try {
    const dnnl::convolution_forward::primitive_desc pd(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                        memory::desc(x_dims, kBf16, Tag::nhwc), memory::desc(w_dims, kBf16, Tag::any),
                                        memory::desc(x_dims, kF32, Tag::nhwc), {1, 1}, {1, 1}, {1, 1}),
        CpuEngine());
    return std::string(pd.impl_info_str()).find("ref") == std::string::npos;
  } catch (const dnnl::error&) {
    return false;  // no bf16 convolution at all on this CPU
  }
}

}  // namespace resnet_onednn
