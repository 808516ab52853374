#include "convolution.h"

#include <map>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>

namespace resnet_onednn {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;

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

// Activations stay NHWC end to end: converting them to oneDNN's blocked layouts and back costs
// about as much as the blocked kernels save on ResNet-sized tensors.
class ConvPlan {
 public:
  ConvPlan(ConvPass pass, const ConvGeometry& g) : pass_(pass) {
    const memory::dims x_dims = {g.n, g.ci, g.h, g.w};
    const memory::dims w_dims = {g.co, g.ci, g.kh, g.kw};
    const memory::dims y_dims = {g.n, g.co, g.oh, g.ow};
    const memory::desc x_md(x_dims, kF32, Tag::nhwc);
    const memory::desc y_md(y_dims, kF32, Tag::nhwc);
    const memory::desc w_user_md(w_dims, kF32, Tag::hwio);
    const memory::desc w_any_md(w_dims, kF32, Tag::any);
    const memory::dims strides = {g.stride_h, g.stride_w};
    const memory::dims pad_l = {g.pad_top, g.pad_left};
    const memory::dims pad_r = {g.pad_bottom, g.pad_right};
    auto& engine = CpuEngine();

    const dnnl::convolution_forward::primitive_desc forward(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                        x_md, w_any_md, y_md, strides, pad_l, pad_r),
        engine);
    switch (pass) {
      case ConvPass::Forward:
        weights_.emplace(w_user_md, forward.weights_desc(), true);
        a_ = memory(x_md, engine, DNNL_MEMORY_NONE);
        out_ = memory(y_md, engine, DNNL_MEMORY_NONE);
        primitive_ = dnnl::convolution_forward(forward);
        break;
      case ConvPass::BackwardData: {
        const dnnl::convolution_backward_data::primitive_desc pd(
            dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, x_md, w_any_md, y_md,
                                                  strides, pad_l, pad_r),
            engine, forward);
        weights_.emplace(w_user_md, pd.weights_desc(), true);
        a_ = memory(y_md, engine, DNNL_MEMORY_NONE);
        out_ = memory(x_md, engine, DNNL_MEMORY_NONE);
        primitive_ = dnnl::convolution_backward_data(pd);
        break;
      }
      case ConvPass::BackwardWeights: {
        const dnnl::convolution_backward_weights::primitive_desc pd(
            dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, x_md, w_any_md, y_md,
                                                     strides, pad_l, pad_r),
            engine, forward);
        weights_.emplace(w_user_md, pd.diff_weights_desc(), false);
        a_ = memory(x_md, engine, DNNL_MEMORY_NONE);
        b_ = memory(y_md, engine, DNNL_MEMORY_NONE);
        primitive_ = dnnl::convolution_backward_weights(pd);
        break;
      }
    }
  }

  void Run(const float* a, const float* b, float* out) {
    auto& stream = CpuStream();
    a_.set_data_handle(const_cast<float*>(a));
    switch (pass_) {
      case ConvPass::Forward:
        weights_->user.set_data_handle(const_cast<float*>(b));
        out_.set_data_handle(out);
        weights_->ToPrimitive();
        primitive_.execute(stream, {{DNNL_ARG_SRC, a_}, {DNNL_ARG_WEIGHTS, weights_->primitive}, {DNNL_ARG_DST, out_}});
        break;
      case ConvPass::BackwardData:
        weights_->user.set_data_handle(const_cast<float*>(b));
        out_.set_data_handle(out);
        weights_->ToPrimitive();
        primitive_.execute(stream,
                           {{DNNL_ARG_DIFF_DST, a_}, {DNNL_ARG_WEIGHTS, weights_->primitive}, {DNNL_ARG_DIFF_SRC, out_}});
        break;
      case ConvPass::BackwardWeights:
        b_.set_data_handle(const_cast<float*>(b));
        weights_->user.set_data_handle(out);
        primitive_.execute(stream,
                           {{DNNL_ARG_SRC, a_}, {DNNL_ARG_DIFF_DST, b_}, {DNNL_ARG_DIFF_WEIGHTS, weights_->primitive}});
        weights_->ToUser();
        break;
    }
    stream.wait();
  }

 private:
  ConvPass pass_;
  dnnl::primitive primitive_;
  std::optional<WeightsBridge> weights_;
  memory a_, b_, out_;
};

using PlanKey = std::pair<int, std::array<int, ConvGeometry::kFields>>;

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

void RunConvolution(ConvPass pass, const ConvGeometry& g, const float* a, const float* b, float* out) {
  auto& cache = PlanCache();
  const PlanKey key{static_cast<int>(pass), g.AsArray()};
  auto it = cache.find(key);
  if (it == cache.end()) {
    if (cache.size() >= kMaxCachedPlans) cache.clear();
    it = cache.emplace(key, std::make_unique<ConvPlan>(pass, g)).first;
  }
  it->second->Run(a, b, out);
}

void ClearConvolutionCache() { PlanCache().clear(); }

}  // namespace resnet_onednn
