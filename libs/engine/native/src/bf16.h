// bfloat16 rounding of float32 values, as oneDNN's reorders do it.
#pragma once

#include <cstdint>
#include <cstring>

namespace resnet_onednn {

// x rounded to the nearest bfloat16 (ties to even), as a float32; NaN stays NaN.
inline float RoundToBf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return x;
  bits += 0x7fffu + ((bits >> 16) & 1u);
  bits &= 0xffff0000u;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

}  // namespace resnet_onednn
