;; SIMD loops of the optimizer's hot paths, on chunks that VectorKernels stages in this memory.
;; Each computes exactly what the plain loop in JavaScript does (same operations, same order, f64
;; where JavaScript computes in doubles), so results are bitwise those of the scalar code.
;; Lengths are multiples of 4: the caller pads the last chunk with zeros.
(module
  (memory (export "memory") 3)

  ;; 1 when every f32 at x is finite (x - x is 0 for finite values and NaN otherwise), else 0.
  (func (export "allFinite") (param $x i32) (param $n i32) (result i32)
    (local $end i32) (local $acc v128) (local $v v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.sub (local.get $v) (local.get $v))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $next)))
    (i32.eqz (v128.any_true (f32x4.ne (local.get $acc) (local.get $acc)))))

  ;; sum[i] += x[i]: f64 sum at $sum, f32 values at $x.
  (func (export "addInto") (param $sum i32) (param $x i32) (param $n i32)
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load (local.get $x)))
        (v128.store (local.get $sum)
          (f64x2.add (v128.load (local.get $sum)) (f64x2.promote_low_f32x4 (local.get $v))))
        (v128.store offset=16 (local.get $sum)
          (f64x2.add (v128.load offset=16 (local.get $sum))
            (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $sum (i32.add (local.get $sum) (i32.const 32)))
        (br $next))))

  ;; out[i] = f32(sum[i] / divisor).
  (func (export "divideInto") (param $out i32) (param $sum i32) (param $n i32) (param $divisor f64)
    (local $end i32) (local $d v128)
    (local.set $d (f64x2.splat (local.get $divisor)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (v128.store64_lane 0 (local.get $out)
          (f32x4.demote_f64x2_zero (f64x2.div (v128.load (local.get $sum)) (local.get $d))))
        (v128.store64_lane offset=8 0 (local.get $out)
          (f32x4.demote_f64x2_zero (f64x2.div (v128.load offset=16 (local.get $sum)) (local.get $d))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $sum (i32.add (local.get $sum) (i32.const 32)))
        (br $next))))

  ;; SGD with momentum in place on f32 weights $w, gradient $g and velocity $vel, two f64 lanes at
  ;; a time as sgdStep's loop body. Returns 1 when every new weight and velocity is finite, else 0.
  (func (export "sgdStep") (param $w i32) (param $g i32) (param $vel i32) (param $n i32)
    (param $lr f64) (param $momentum f64) (param $weightDecay f64) (param $nesterov i32) (result i32)
    (local $end i32) (local $lrs v128) (local $mu v128) (local $wd v128)
    (local $wv v128) (local $gv v128) (local $vv v128) (local $acc v128)
    (local $w0 v128) (local $v0 v128) (local $w1 v128) (local $v1 v128)
    (local $pw v128) (local $d v128) (local $v v128)
    (local.set $lrs (f64x2.splat (local.get $lr)))
    (local.set $mu (f64x2.splat (local.get $momentum)))
    (local.set $wd (f64x2.splat (local.get $weightDecay)))
    (local.set $end (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
        (local.set $wv (v128.load (local.get $w)))
        (local.set $gv (v128.load (local.get $g)))
        (local.set $vv (v128.load (local.get $vel)))
        ;; low: d = g + wd·w; v = μ·vel + d; w' = w - lr·(nesterov ? d + μ·v : v)
        (local.set $pw (f64x2.promote_low_f32x4 (local.get $wv)))
        (local.set $d (f64x2.add (f64x2.promote_low_f32x4 (local.get $gv)) (f64x2.mul (local.get $wd) (local.get $pw))))
        (local.set $v (f64x2.add (f64x2.mul (local.get $mu) (f64x2.promote_low_f32x4 (local.get $vv))) (local.get $d)))
        (local.set $w0 (f32x4.demote_f64x2_zero (f64x2.sub (local.get $pw) (f64x2.mul (local.get $lrs)
          (select (result v128) (f64x2.add (local.get $d) (f64x2.mul (local.get $mu) (local.get $v))) (local.get $v) (local.get $nesterov))))))
        (local.set $v0 (f32x4.demote_f64x2_zero (local.get $v)))
        ;; high: d = g + wd·w; v = μ·vel + d; w' = w - lr·(nesterov ? d + μ·v : v)
        (local.set $pw (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $wv) (local.get $wv))))
        (local.set $d (f64x2.add (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $gv) (local.get $gv))) (f64x2.mul (local.get $wd) (local.get $pw))))
        (local.set $v (f64x2.add (f64x2.mul (local.get $mu) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vv) (local.get $vv)))) (local.get $d)))
        (local.set $w1 (f32x4.demote_f64x2_zero (f64x2.sub (local.get $pw) (f64x2.mul (local.get $lrs)
          (select (result v128) (f64x2.add (local.get $d) (f64x2.mul (local.get $mu) (local.get $v))) (local.get $v) (local.get $nesterov))))))
        (local.set $v1 (f32x4.demote_f64x2_zero (local.get $v)))
        ;; Low halves of the two results side by side: the four new values in order.
        (local.set $wv (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $w0) (local.get $w1)))
        (local.set $vv (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $v0) (local.get $v1)))
        (v128.store (local.get $w) (local.get $wv))
        (v128.store (local.get $vel) (local.get $vv))
        (local.set $acc (f32x4.add (local.get $acc)
          (f32x4.add (f32x4.sub (local.get $wv) (local.get $wv)) (f32x4.sub (local.get $vv) (local.get $vv)))))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $vel (i32.add (local.get $vel) (i32.const 16)))
        (br $next)))
    (i32.eqz (v128.any_true (f32x4.ne (local.get $acc) (local.get $acc)))))
)
