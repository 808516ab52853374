;; The bulk of XXH3-64 for inputs over 240 bytes, in WebAssembly SIMD (see xxh3.ts, which does
;; the rest): the accumulation of 64-byte stripes into eight 64-bit lanes and the scrambling after
;; each 1,024-byte block, as in https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md.
;; Memory: the lanes at 0 (64 bytes), the 192-byte secret at 64 (both written by xxh3.ts), input
;; staged by the caller from 2560 on.
(module
  (memory (export "memory") 1)

  ;; Per stripe, for lanes i = 0..7: key = data[i] ^ secret[i]; acc[i ^ 1] += data[i];
  ;; acc[i] += lo32(key) × hi32(key). `n` stripes from `p`, the secret read from `s` on, 8 bytes
  ;; further for each stripe. (Written out per pair of lanes: V8 does not inline WebAssembly calls.)
  (func $accumulate (export "accumulate") (param $p i32) (param $n i32) (param $s i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $data v128) (local $key v128)
    (local.set $a0 (v128.load (i32.const 0)))
    (local.set $a1 (v128.load (i32.const 16)))
    (local.set $a2 (v128.load (i32.const 32)))
    (local.set $a3 (v128.load (i32.const 48)))
    (block $done
      (loop $stripe
        (br_if $done (i32.eqz (local.get $n)))
        ;; lanes 0 and 1
        (local.set $data (v128.load offset=0 (local.get $p)))
        (local.set $key (v128.xor (local.get $data) (v128.load offset=0 (local.get $s))))
        (local.set $a0
          (i64x2.add
            (local.get $a0)
            (i64x2.add
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $data) (local.get $data))
              (i64x2.extmul_low_i32x4_u
                (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $key) (local.get $key))
                (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15 (local.get $key) (local.get $key))))))
        ;; lanes 2 and 3
        (local.set $data (v128.load offset=16 (local.get $p)))
        (local.set $key (v128.xor (local.get $data) (v128.load offset=16 (local.get $s))))
        (local.set $a1
          (i64x2.add
            (local.get $a1)
            (i64x2.add
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $data) (local.get $data))
              (i64x2.extmul_low_i32x4_u
                (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $key) (local.get $key))
                (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15 (local.get $key) (local.get $key))))))
        ;; lanes 4 and 5
        (local.set $data (v128.load offset=32 (local.get $p)))
        (local.set $key (v128.xor (local.get $data) (v128.load offset=32 (local.get $s))))
        (local.set $a2
          (i64x2.add
            (local.get $a2)
            (i64x2.add
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $data) (local.get $data))
              (i64x2.extmul_low_i32x4_u
                (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $key) (local.get $key))
                (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15 (local.get $key) (local.get $key))))))
        ;; lanes 6 and 7
        (local.set $data (v128.load offset=48 (local.get $p)))
        (local.set $key (v128.xor (local.get $data) (v128.load offset=48 (local.get $s))))
        (local.set $a3
          (i64x2.add
            (local.get $a3)
            (i64x2.add
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $data) (local.get $data))
              (i64x2.extmul_low_i32x4_u
                (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $key) (local.get $key))
                (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15 (local.get $key) (local.get $key))))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (local.set $s (i32.add (local.get $s) (i32.const 8)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $stripe)))
    (v128.store (i32.const 0) (local.get $a0))
    (v128.store (i32.const 16) (local.get $a1))
    (v128.store (i32.const 32) (local.get $a2))
    (v128.store (i32.const 48) (local.get $a3)))

  ;; After each block: acc = (acc ^ (acc >> 47) ^ secret[128..192]) × PRIME32_1.
  (func $scramble
    (v128.store (i32.const 0) (call $scrambled (v128.load (i32.const 0)) (v128.load (i32.const 192))))
    (v128.store (i32.const 16) (call $scrambled (v128.load (i32.const 16)) (v128.load (i32.const 208))))
    (v128.store (i32.const 32) (call $scrambled (v128.load (i32.const 32)) (v128.load (i32.const 224))))
    (v128.store (i32.const 48) (call $scrambled (v128.load (i32.const 48)) (v128.load (i32.const 240)))))

  (func $scrambled (param $acc v128) (param $secret v128) (result v128)
    (i64x2.mul
      (v128.xor (v128.xor (local.get $acc) (i64x2.shr_u (local.get $acc) (i32.const 47))) (local.get $secret))
      (i64x2.splat (i64.const 0x9E3779B1))))

  ;; `n` whole blocks of 16 stripes from `p`, each followed by a scramble.
  (func (export "blocks") (param $p i32) (param $n i32)
    (block $done
      (loop $block
        (br_if $done (i32.eqz (local.get $n)))
        (call $accumulate (local.get $p) (i32.const 16) (i32.const 64))
        (call $scramble)
        (local.set $p (i32.add (local.get $p) (i32.const 1024)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $block))))
)
