;; SIMD loops of the fused batch-norm kernels (fused-batch-norm.ts, fused-batch-norm-grad.ts) on
;; chunks that FusedBatchNormLoops stages in this memory. A chunk is a whole number of periods:
;; `period` values (a multiple of 4 and of the channel count) whose lane j holds channel j mod C,
;; so each per-channel operand is stored once per period, repeated, and 4 lanes load as a vector.
;; Each loop walks one vector of 4 lanes down all periods of the chunk before the next, so that
;; the lanes' operands and sums stay in registers; the sums are f64 per lane, folded into
;; channels by the caller.
(module
  (memory (export "memory") 1)

  ;; acc[0..1] += lo, acc[2..3] += hi.
  (func $addPairs (param $acc i32) (param $lo v128) (param $hi v128)
    (v128.store (local.get $acc) (f64x2.add (v128.load (local.get $acc)) (local.get $lo)))
    (v128.store offset=16 (local.get $acc) (f64x2.add (v128.load offset=16 (local.get $acc)) (local.get $hi))))

  ;; With d = x − shift[lane]: sum[lane] += d, squares[lane] += d², in f64 (d² too).
  (func (export "moments") (param $x i32) (param $n i32) (param $period i32) (param $shift i32)
    (param $sum i32) (param $squares i32)
    (local $end i32) (local $stride i32) (local $j i32) (local $p i32) (local $s v128) (local $d v128)
    (local $lo v128) (local $hi v128) (local $sumLo v128) (local $sumHi v128) (local $sqLo v128) (local $sqHi v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $stride (i32.shl (local.get $period) (i32.const 2)))
    (block $lanesDone
      (loop $lanes
        (br_if $lanesDone (i32.ge_u (local.get $j) (local.get $stride)))
        (local.set $s (v128.load (i32.add (local.get $shift) (local.get $j))))
        (local.set $sumLo (v128.const f64x2 0 0))
        (local.set $sumHi (v128.const f64x2 0 0))
        (local.set $sqLo (v128.const f64x2 0 0))
        (local.set $sqHi (v128.const f64x2 0 0))
        (local.set $p (i32.add (local.get $x) (local.get $j)))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $d (f32x4.sub (v128.load (local.get $p)) (local.get $s)))
            (local.set $lo (f64x2.promote_low_f32x4 (local.get $d)))
            (local.set $hi (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d))))
            (local.set $sumLo (f64x2.add (local.get $sumLo) (local.get $lo)))
            (local.set $sumHi (f64x2.add (local.get $sumHi) (local.get $hi)))
            (local.set $sqLo (f64x2.add (local.get $sqLo) (f64x2.mul (local.get $lo) (local.get $lo))))
            (local.set $sqHi (f64x2.add (local.get $sqHi) (f64x2.mul (local.get $hi) (local.get $hi))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (br $next)))
        ;; f64 sums take 8 bytes a lane: twice the f32 offset.
        (call $addPairs (i32.add (local.get $sum) (i32.shl (local.get $j) (i32.const 1)))
          (local.get $sumLo) (local.get $sumHi))
        (call $addPairs (i32.add (local.get $squares) (i32.shl (local.get $j) (i32.const 1)))
          (local.get $sqLo) (local.get $sqHi))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $lanes))))

  ;; In place: x = act(x·mul[lane] + add[lane] (+ residual)); $residual 0 for none, $relu 0 or 1.
  (func (export "normalise") (param $x i32) (param $residual i32) (param $n i32) (param $period i32)
    (param $mul i32) (param $add i32) (param $relu i32)
    (local $end i32) (local $stride i32) (local $j i32) (local $p i32) (local $r i32)
    (local $m v128) (local $a v128) (local $v v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $stride (i32.shl (local.get $period) (i32.const 2)))
    (block $lanesDone
      (loop $lanes
        (br_if $lanesDone (i32.ge_u (local.get $j) (local.get $stride)))
        (local.set $m (v128.load (i32.add (local.get $mul) (local.get $j))))
        (local.set $a (v128.load (i32.add (local.get $add) (local.get $j))))
        (local.set $p (i32.add (local.get $x) (local.get $j)))
        (local.set $r (i32.add (local.get $residual) (local.get $j)))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $v (f32x4.add (f32x4.mul (v128.load (local.get $p)) (local.get $m)) (local.get $a)))
            (if (local.get $residual)
              (then (local.set $v (f32x4.add (local.get $v) (v128.load (local.get $r))))))
            ;; f32x4.max keeps NaN, as tfjs' Relu does.
            (if (local.get $relu)
              (then (local.set $v (f32x4.max (local.get $v) (v128.const f32x4 0 0 0 0)))))
            (v128.store (local.get $p) (local.get $v))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (local.set $r (i32.add (local.get $r) (local.get $stride)))
            (br $next)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $lanes))))

  ;; g = relu ? dy·(y > 0) : dy, written over dy; sumG[lane] += g and
  ;; sumGX[lane] += g·(x − mean[lane]), in f64.
  (func (export "gradSums") (param $dy i32) (param $x i32) (param $y i32) (param $n i32) (param $period i32)
    (param $mean i32) (param $sumG i32) (param $sumGX i32) (param $relu i32)
    (local $bytes i32) (local $stride i32) (local $j i32) (local $o i32) (local $mu v128) (local $g v128)
    (local $gx v128) (local $gLo v128) (local $gHi v128) (local $gxLo v128) (local $gxHi v128)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $stride (i32.shl (local.get $period) (i32.const 2)))
    (block $lanesDone
      (loop $lanes
        (br_if $lanesDone (i32.ge_u (local.get $j) (local.get $stride)))
        (local.set $mu (v128.load (i32.add (local.get $mean) (local.get $j))))
        (local.set $gLo (v128.const f64x2 0 0))
        (local.set $gHi (v128.const f64x2 0 0))
        (local.set $gxLo (v128.const f64x2 0 0))
        (local.set $gxHi (v128.const f64x2 0 0))
        ;; $o: byte offset of the element in each of dy, x and y.
        (local.set $o (local.get $j))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $o) (local.get $bytes)))
            (local.set $g (v128.load (i32.add (local.get $dy) (local.get $o))))
            (if (local.get $relu)
              (then (local.set $g (v128.and (local.get $g)
                (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $o))) (v128.const f32x4 0 0 0 0))))))
            (v128.store (i32.add (local.get $dy) (local.get $o)) (local.get $g))
            (local.set $gx (f32x4.mul (local.get $g)
              (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $o))) (local.get $mu))))
            (local.set $gLo (f64x2.add (local.get $gLo) (f64x2.promote_low_f32x4 (local.get $g))))
            (local.set $gHi (f64x2.add (local.get $gHi) (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g)))))
            (local.set $gxLo (f64x2.add (local.get $gxLo) (f64x2.promote_low_f32x4 (local.get $gx))))
            (local.set $gxHi (f64x2.add (local.get $gxHi) (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $gx) (local.get $gx)))))
            (local.set $o (i32.add (local.get $o) (local.get $stride)))
            (br $next)))
        (call $addPairs (i32.add (local.get $sumG) (i32.shl (local.get $j) (i32.const 1)))
          (local.get $gLo) (local.get $gHi))
        (call $addPairs (i32.add (local.get $sumGX) (i32.shl (local.get $j) (i32.const 1)))
          (local.get $gxLo) (local.get $gxHi))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $lanes))))

  ;; dx over dy in place: dx = a[lane]·g − b[lane] − (x − mean[lane])·c[lane], with g as in gradSums.
  (func (export "gradInput") (param $dy i32) (param $x i32) (param $y i32) (param $n i32) (param $period i32)
    (param $mean i32) (param $a i32) (param $b i32) (param $c i32) (param $relu i32)
    (local $bytes i32) (local $stride i32) (local $j i32) (local $o i32)
    (local $mu v128) (local $av v128) (local $bv v128) (local $cv v128) (local $g v128)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $stride (i32.shl (local.get $period) (i32.const 2)))
    (block $lanesDone
      (loop $lanes
        (br_if $lanesDone (i32.ge_u (local.get $j) (local.get $stride)))
        (local.set $mu (v128.load (i32.add (local.get $mean) (local.get $j))))
        (local.set $av (v128.load (i32.add (local.get $a) (local.get $j))))
        (local.set $bv (v128.load (i32.add (local.get $b) (local.get $j))))
        (local.set $cv (v128.load (i32.add (local.get $c) (local.get $j))))
        (local.set $o (local.get $j))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $o) (local.get $bytes)))
            (local.set $g (v128.load (i32.add (local.get $dy) (local.get $o))))
            (if (local.get $relu)
              (then (local.set $g (v128.and (local.get $g)
                (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $o))) (v128.const f32x4 0 0 0 0))))))
            (v128.store (i32.add (local.get $dy) (local.get $o))
              (f32x4.sub
                (f32x4.sub (f32x4.mul (local.get $av) (local.get $g)) (local.get $bv))
                (f32x4.mul
                  (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $o))) (local.get $mu))
                  (local.get $cv))))
            (local.set $o (i32.add (local.get $o) (local.get $stride)))
            (br $next)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $lanes))))
)
