;; SIMD loops of the fused batch-norm kernels (fused-batch-norm.ts, fused-batch-norm-grad.ts) on
;; chunks that FusedBatchNormLoops stages in this memory. A chunk is a whole number of periods:
;; `period` values (a multiple of 4 and of the channel count) whose lane j holds channel j mod C,
;; so each per-channel operand is stored once per period, repeated, and 4 lanes load as a vector.
;; Sums go into one f64 accumulator per lane; the caller folds the lanes into channels.
(module
  (memory (export "memory") 1)

  ;; acc[0..1] += low half of $v, acc[2..3] += high half, promoted to f64.
  (func $accumulate (param $acc i32) (param $v v128)
    (v128.store (local.get $acc)
      (f64x2.add (v128.load (local.get $acc)) (f64x2.promote_low_f32x4 (local.get $v))))
    (v128.store offset=16 (local.get $acc)
      (f64x2.add (v128.load offset=16 (local.get $acc))
        (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))

  ;; Next lane offset in bytes: $j + 16, wrapping at the end of the period.
  (func $nextLane (param $j i32) (param $periodBytes i32) (result i32)
    (local.set $j (i32.add (local.get $j) (i32.const 16)))
    (select (i32.const 0) (local.get $j) (i32.eq (local.get $j) (local.get $periodBytes))))

  ;; With d = x − shift[lane]: sum[lane] += d, squares[lane] += d², in f64 (d² too).
  (func (export "moments") (param $x i32) (param $n i32) (param $period i32) (param $shift i32)
    (param $sum i32) (param $squares i32)
    (local $end i32) (local $j i32) (local $k i32) (local $periodBytes i32)
    (local $d v128) (local $lo v128) (local $hi v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $periodBytes (i32.shl (local.get $period) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $d (f32x4.sub (v128.load (local.get $x)) (v128.load (i32.add (local.get $shift) (local.get $j)))))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $d)))
        (local.set $hi (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d))))
        ;; f64 accumulators take 8 bytes a lane: twice the f32 offset.
        (local.set $k (i32.shl (local.get $j) (i32.const 1)))
        (v128.store (i32.add (local.get $sum) (local.get $k))
          (f64x2.add (v128.load (i32.add (local.get $sum) (local.get $k))) (local.get $lo)))
        (v128.store offset=16 (i32.add (local.get $sum) (local.get $k))
          (f64x2.add (v128.load offset=16 (i32.add (local.get $sum) (local.get $k))) (local.get $hi)))
        (v128.store (i32.add (local.get $squares) (local.get $k))
          (f64x2.add (v128.load (i32.add (local.get $squares) (local.get $k)))
            (f64x2.mul (local.get $lo) (local.get $lo))))
        (v128.store offset=16 (i32.add (local.get $squares) (local.get $k))
          (f64x2.add (v128.load offset=16 (i32.add (local.get $squares) (local.get $k)))
            (f64x2.mul (local.get $hi) (local.get $hi))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $j (call $nextLane (local.get $j) (local.get $periodBytes)))
        (br $next))))

  ;; In place: x = act(x·mul[lane] + add[lane] (+ residual)); $residual 0 for none, $relu 0 or 1.
  (func (export "normalise") (param $x i32) (param $residual i32) (param $n i32) (param $period i32)
    (param $mul i32) (param $add i32) (param $relu i32)
    (local $end i32) (local $j i32) (local $periodBytes i32) (local $v v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $periodBytes (i32.shl (local.get $period) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (f32x4.add
          (f32x4.mul (v128.load (local.get $x)) (v128.load (i32.add (local.get $mul) (local.get $j))))
          (v128.load (i32.add (local.get $add) (local.get $j)))))
        (if (local.get $residual)
          (then
            (local.set $v (f32x4.add (local.get $v) (v128.load (local.get $residual))))
            (local.set $residual (i32.add (local.get $residual) (i32.const 16)))))
        ;; f32x4.max keeps NaN, as tfjs' Relu does.
        (if (local.get $relu)
          (then (local.set $v (f32x4.max (local.get $v) (v128.const f32x4 0 0 0 0)))))
        (v128.store (local.get $x) (local.get $v))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $j (call $nextLane (local.get $j) (local.get $periodBytes)))
        (br $next))))

  ;; The upstream gradient g = relu ? dy·(y > 0) : dy at $dy and $y.
  (func $upstream (param $dy i32) (param $y i32) (param $relu i32) (result v128)
    (if (result v128) (local.get $relu)
      (then (v128.and (v128.load (local.get $dy))
        (f32x4.gt (v128.load (local.get $y)) (v128.const f32x4 0 0 0 0))))
      (else (v128.load (local.get $dy)))))

  ;; g into $dy in place; sumG[lane] += g, sumGX[lane] += g·(x − mean[lane]), in f64.
  (func (export "gradSums") (param $dy i32) (param $x i32) (param $y i32) (param $n i32) (param $period i32)
    (param $mean i32) (param $sumG i32) (param $sumGX i32) (param $relu i32)
    (local $end i32) (local $j i32) (local $periodBytes i32) (local $g v128)
    (local.set $end (i32.add (local.get $dy) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $periodBytes (i32.shl (local.get $period) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $dy) (local.get $end)))
        (local.set $g (call $upstream (local.get $dy) (local.get $y) (local.get $relu)))
        (v128.store (local.get $dy) (local.get $g))
        (call $accumulate (i32.add (local.get $sumG) (i32.shl (local.get $j) (i32.const 1))) (local.get $g))
        (call $accumulate (i32.add (local.get $sumGX) (i32.shl (local.get $j) (i32.const 1)))
          (f32x4.mul (local.get $g)
            (f32x4.sub (v128.load (local.get $x)) (v128.load (i32.add (local.get $mean) (local.get $j))))))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $j (call $nextLane (local.get $j) (local.get $periodBytes)))
        (br $next))))

  ;; dx into $dy in place: dx = a[lane]·g − b[lane] − (x − mean[lane])·c[lane].
  (func (export "gradInput") (param $dy i32) (param $x i32) (param $y i32) (param $n i32) (param $period i32)
    (param $mean i32) (param $a i32) (param $b i32) (param $c i32) (param $relu i32)
    (local $end i32) (local $j i32) (local $periodBytes i32)
    (local.set $end (i32.add (local.get $dy) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $periodBytes (i32.shl (local.get $period) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $dy) (local.get $end)))
        (v128.store (local.get $dy)
          (f32x4.sub
            (f32x4.sub
              (f32x4.mul (v128.load (i32.add (local.get $a) (local.get $j)))
                (call $upstream (local.get $dy) (local.get $y) (local.get $relu)))
              (v128.load (i32.add (local.get $b) (local.get $j))))
            (f32x4.mul
              (f32x4.sub (v128.load (local.get $x)) (v128.load (i32.add (local.get $mean) (local.get $j))))
              (v128.load (i32.add (local.get $c) (local.get $j))))))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $j (call $nextLane (local.get $j) (local.get $periodBytes)))
        (br $next))))
)
