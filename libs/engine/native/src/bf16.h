// bfloat16 storage of float32 values: rounding (as oneDNN's reorders do it) and the loads and
// stores with which the batch-norm loops read and write bf16 activations as float32.
#pragma once

#include <cstdint>
#include <cstring>

namespace resnet_onednn {

// The bits of float32 values (a uint32_t, or a vector of them) rounded to the nearest bfloat16
// (ties to even), whose 16 bits are then the high half; NaN stays NaN (quiet). A select, not a
// branch, so that loops storing bf16 vectorise: with the branch, the batch-norm loops that write
// bf16 ran one element at a time, 6 times slower than their float32 versions.
template <typename Words>
inline Words Bf16RoundedBits(Words bits) {
  const Words rounded = bits + 0x7fffu + ((bits >> 16) & 1u);
  return (bits & 0x7fffffffu) > 0x7f800000u ? bits | 0x400000u : rounded;
}

// x rounded to the nearest bfloat16, as its 16 bits.
inline uint16_t FloatToBf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return static_cast<uint16_t>(Bf16RoundedBits(bits) >> 16);
}

inline float Bf16ToFloat(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

// An activation element as float32, and a float32 as an activation element: the identity for
// float32 storage, widening and rounding for bf16.
inline float Widen(float v) { return v; }
inline float Widen(uint16_t h) { return Bf16ToFloat(h); }
template <typename X>
inline X Narrow(float v);
template <>
inline float Narrow<float>(float v) {
  return v;
}
template <>
inline uint16_t Narrow<uint16_t>(float v) {
  return FloatToBf16(v);
}

// x rounded to the nearest bfloat16, as a float32.
inline float RoundToBf16(float x) { return Bf16ToFloat(FloatToBf16(x)); }

}  // namespace resnet_onednn
