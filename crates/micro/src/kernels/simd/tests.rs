//! Every SIMD path this CPU has against scalar arithmetic, on random shapes and values.

use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::kernels::conv::testing::XorShift;
use crate::quant::{rescale, QuantizedMultiplier};

/// The SIMD paths to test; says which ones this CPU cannot run.
fn paths() -> Vec<Simd> {
    Simd::available_reporting()
        .into_iter()
        .filter(|s| s.isa() != Isa::Portable)
        .collect()
}

/// Random output-stage terms, every shift from −31 to 31 in turn.
fn random_terms(rng: &mut XorShift, n: usize) -> Vec<RescaleTerms> {
    (0..n)
        .map(|c| {
            let shift = (c % 63) as i32 - 31;
            let multiplier = match rng.usize(0, 9) {
                0 => 0,
                1 => i32::MAX,
                2 => 1 << 30,
                _ => (1 << 30) + rng.range(0, (1 << 30) - 1) as i32,
            };
            RescaleTerms::new(QuantizedMultiplier { multiplier, shift })
        })
        .collect()
}

fn expected_out(t: &RescaleTerms, acc: i32, zp: i32, lo: i32, hi: i32) -> i8 {
    let v = rescale(
        acc,
        t.multiplier,
        t.left_shift,
        t.right_shift,
        t.round,
        t.round_mask,
    );
    v.wrapping_add(zp).max(lo).min(hi) as i8
}

#[test]
fn scalar_form_of_the_vector_output_stage_is_tflites() {
    let mut rng = XorShift(0x0u64.wrapping_add(0x7e57_0001));
    let terms = random_terms(&mut rng, 63 * 8);
    let bias: Vec<i32> = (0..terms.len()).map(|_| rng.next() as i32).collect();
    let req = Requant::new(&terms, &bias, 3, -128, 127);
    for (c, t) in terms.iter().enumerate() {
        for acc in [
            0,
            1,
            -1,
            i32::MAX,
            i32::MIN,
            rng.next() as i32,
            (rng.next() as i32) >> 12,
        ] {
            let want = expected_out(t, acc.wrapping_add(bias[c]), 3, -128, 127);
            assert_eq!(req.one(c, acc), want, "channel {c} acc {acc}");
        }
    }
}

/// `rows × k` activations times `n × k` weights, through every path, against the scalar sum
/// and output stage.
fn check_gemm(rng: &mut XorShift, simd: Simd, rows: usize, n: usize, k: usize, extreme: bool) {
    let value = |rng: &mut XorShift| {
        if extreme {
            [-128i8, 127][rng.usize(0, 1)]
        } else {
            rng.range(-128, 127) as i8
        }
    };
    let x: Vec<i8> = (0..rows * k).map(|_| value(rng)).collect();
    let w: Vec<i8> = (0..n * k).map(|_| value(rng)).collect();
    let Some(gemm) = Gemm::new(simd, &w, n, k) else {
        panic!("{simd:?} refused {n}×{k}");
    };
    let terms = random_terms(rng, n);
    let bias: Vec<i32> = (0..n)
        .map(|_| match rng.usize(0, 3) {
            0 => rng.next() as i32,
            _ => rng.range(-100_000, 100_000) as i32,
        })
        .collect();
    let (zp, lo, hi) = (rng.range(-128, 127) as i32, -128, rng.range(0, 127) as i32);
    // The kernel adds `offset` to each activation; the bias takes it back.
    let row_sums: Vec<i32> = w
        .chunks_exact(k)
        .map(|r| r.iter().fold(0i32, |s, &v| s.wrapping_add(i32::from(v))))
        .collect();
    let kernel_bias: Vec<i32> = bias
        .iter()
        .zip(&row_sums)
        .map(|(&b, &s)| b.wrapping_sub(gemm.offset().wrapping_mul(s)))
        .collect();
    let req = Requant::new(&terms, &kernel_bias, zp, lo, hi);
    let fill = |r: usize, row: &mut [i8]| row.copy_from_slice(&x[r * k..(r + 1) * k]);

    let mut got = vec![0i8; rows * n];
    gemm.run(rows, fill, GemmOut::Requant(&req, &mut got));
    // Rows read in place where the path allows it: the same results.
    let mut in_place = vec![0i8; rows * n];
    gemm.run_rows(rows, &x, GemmOut::Requant(&req, &mut in_place));
    assert_eq!(in_place, got, "{} rows read in place", simd.isa().name());
    let mut raw = vec![0i32; rows * n];
    gemm.run(rows, fill, GemmOut::Raw(&mut raw));
    let mut raw_in_place = vec![0i32; rows * n];
    gemm.run_rows(rows, &x, GemmOut::Raw(&mut raw_in_place));
    assert_eq!(
        raw_in_place,
        raw,
        "{} raw rows read in place",
        simd.isa().name()
    );
    for r in 0..rows {
        for c in 0..n {
            let dot = (0..k).fold(0i32, |s, i| {
                s.wrapping_add(i32::from(x[r * k + i]) * i32::from(w[c * k + i]))
            });
            let want_raw = dot.wrapping_add(gemm.offset().wrapping_mul(row_sums[c]));
            assert_eq!(
                raw[r * n + c],
                want_raw,
                "{} raw rows {rows} n {n} k {k} at ({r}, {c})",
                simd.isa().name()
            );
            let want = expected_out(&terms[c], dot.wrapping_add(bias[c]), zp, lo, hi);
            assert_eq!(
                got[r * n + c],
                want,
                "{} rows {rows} n {n} k {k} at ({r}, {c})",
                simd.isa().name()
            );
        }
    }
}

#[test]
fn matrix_products_match_scalar_arithmetic() {
    let mut rng = XorShift(0x6e33_0001);
    for simd in paths() {
        // Shapes around every vector, panel and row-block boundary.
        for &(rows, n, k) in &[
            (1, 1, 1),
            (1, 16, 4),
            (6, 64, 8),
            (7, 65, 9),
            (13, 130, 33),
            (2, 200, 3),
            (1, 1000, 67),
            (5, 24, 27),
            (12, 31, 2),
        ] {
            check_gemm(&mut rng, simd, rows, n, k, false);
            check_gemm(&mut rng, simd, rows, n, k, true);
        }
        for _ in 0..60 {
            let (rows, n, k) = (rng.usize(1, 20), rng.usize(1, 150), rng.usize(1, 300));
            let extreme = rng.usize(0, 3) == 0;
            check_gemm(&mut rng, simd, rows, n, k, extreme);
        }
    }
}

#[test]
fn deep_matrix_products_wrap_like_tflite() {
    // 70 000 products of −128 · −128 overflow i32; every path must wrap the same way.
    let mut rng = XorShift(0xdee9_0001);
    for simd in paths() {
        if Gemm::new(simd, &vec![0; 2 * 5000], 2, 5000).is_some() {
            check_gemm(&mut rng, simd, 1, 2, 5000, true);
        }
        assert!(
            Gemm::new(simd, &vec![0; 70_000], 1, 70_000).is_none(),
            "too deep for the stack buffer"
        );
    }
}

fn check_depthwise(rng: &mut XorShift, simd: Simd, taps: usize, channels: usize, extreme: bool) {
    let value = |rng: &mut XorShift| {
        if extreme {
            [-128i8, 127][rng.usize(0, 1)]
        } else {
            rng.range(-128, 127) as i8
        }
    };
    let filter: Vec<i8> = (0..taps * channels).map(|_| value(rng)).collect();
    let dw = Depthwise::new(simd, &filter, taps, channels).unwrap();
    // A run of `count` pixels, each tap advancing `stride` values per pixel.
    let count = rng.usize(1, 9);
    let stride = channels * rng.usize(1, 3) + rng.usize(0, 2);
    let reach = (count - 1) * stride + channels;
    let rows: Vec<Vec<i8>> = (0..taps)
        .map(|_| (0..reach).map(|_| value(rng)).collect())
        .collect();
    let terms = random_terms(rng, channels);
    let bias: Vec<i32> = (0..channels).map(|_| rng.next() as i32 >> 8).collect();
    let (zp, lo, hi) = (rng.range(-128, 127) as i32, rng.range(-128, 0) as i32, 127);
    let req = Requant::new(&terms, &bias, zp, lo, hi);
    let views: Vec<&[i8]> = rows.iter().map(|r| &r[..]).collect();
    let mut got = vec![0i8; count * channels];
    dw.run(&views, stride, count, &req, &mut got);
    for px in 0..count {
        for c in 0..channels {
            let dot = (0..taps).fold(0i32, |s, t| {
                let x = rows[t][px * stride + c];
                s.wrapping_add(i32::from(x) * i32::from(filter[t * channels + c]))
            });
            let want = expected_out(&terms[c], dot.wrapping_add(bias[c]), zp, lo, hi);
            assert_eq!(
                got[px * channels + c],
                want,
                "{} taps {taps} channels {channels} pixel {px} of {count} at {c}",
                simd.isa().name()
            );
        }
    }
}

#[test]
fn depthwise_pixels_match_scalar_arithmetic() {
    let mut rng = XorShift(0xd3e9_0001);
    for simd in paths() {
        for &(taps, channels) in &[
            (9, 32),
            (9, 33),
            (1, 1),
            (2, 7),
            (25, 17),
            (64, 96),
            (3, 960),
        ] {
            check_depthwise(&mut rng, simd, taps, channels, false);
            check_depthwise(&mut rng, simd, taps, channels, true);
        }
        for _ in 0..100 {
            let (taps, channels) = (rng.usize(1, DW_MAX_TAPS), rng.usize(1, 100));
            let extreme = rng.usize(0, 3) == 0;
            check_depthwise(&mut rng, simd, taps, channels, extreme);
        }
        assert!(Depthwise::new(simd, &[0; 65], 65, 1).is_none());
    }
}

fn check_add(rng: &mut XorShift, simd: Simd, len: usize, extreme: bool) {
    let value = |rng: &mut XorShift| {
        if extreme {
            [-128i8, 127][rng.usize(0, 1)]
        } else {
            rng.range(-128, 127) as i8
        }
    };
    let a: Vec<i8> = (0..len).map(|_| value(rng)).collect();
    let b: Vec<i8> = (0..len).map(|_| value(rng)).collect();
    let multiplier = |rng: &mut XorShift| (1 << 30) + rng.range(0, (1 << 30) - 1) as i32;
    let lo = rng.range(-128, 0) as i32;
    let terms = AddTerms {
        a_zero_point: rng.range(-128, 127) as i32,
        a_multiplier: multiplier(rng),
        a_right: rng.range(0, 31) as i32,
        b_zero_point: rng.range(-128, 127) as i32,
        b_multiplier: multiplier(rng),
        b_right: rng.range(0, 31) as i32,
        subtract: rng.usize(0, 1) == 0,
        out_multiplier: multiplier(rng),
        out_right: rng.range(0, 31) as i32,
        out_zero_point: rng.range(-128, 127) as i32,
        lo,
        hi: rng.range(lo.into(), 127) as i32,
    };
    let add = AddI8::new(simd, terms).unwrap();
    let mut got = vec![0i8; len];
    add.run(&a, &b, &mut got);
    let t = terms;
    let scale = |x: i32, m: i32, r: i32| {
        crate::quant::multiply_by_quantized_multiplier_smaller_than_one(x, m, -r)
    };
    for i in 0..len {
        let va = scale(
            (i32::from(a[i]) - t.a_zero_point) << 20,
            t.a_multiplier,
            t.a_right,
        );
        let vb = scale(
            (i32::from(b[i]) - t.b_zero_point) << 20,
            t.b_multiplier,
            t.b_right,
        );
        let raw = if t.subtract { va - vb } else { va + vb };
        let out = scale(raw, t.out_multiplier, t.out_right) + t.out_zero_point;
        let want = out.clamp(t.lo, t.hi) as i8;
        assert_eq!(got[i], want, "{} {t:?} at {i}", simd.isa().name());
    }
}

#[test]
fn element_wise_adds_match_scalar_arithmetic() {
    let mut rng = XorShift(0xadd0_0001);
    for simd in paths() {
        for len in [1, 7, 8, 15, 16, 17, 33, 100, 1000] {
            check_add(&mut rng, simd, len, false);
            check_add(&mut rng, simd, len, true);
        }
        for _ in 0..200 {
            let len = rng.usize(1, 300);
            let extreme = rng.usize(0, 3) == 0;
            check_add(&mut rng, simd, len, extreme);
        }
    }
}

#[test]
fn float_lane_sums_match_the_scalar_loop_bit_for_bit() {
    // The float FULLY_CONNECTED, CONV_2D and LSTM kernels take the best path only, so each
    // path's compilation of the lane loop is checked here: every sum from +0.0 in the order of
    // `k`, multiplies and adds never fused, in one call or split in segments at any point.
    let mut rng = XorShift(0xf32a_0001);
    for simd in paths() {
        for round in 0..300usize {
            let (n, k) = (rng.usize(1, 70), rng.usize(1, 90));
            let value = |rng: &mut XorShift| match rng.usize(0, 15) {
                0 => -0.0,
                1 => 1e-39,
                2 => rng.f32(-1e18, 1e18),
                _ => rng.f32(-2.0, 2.0),
            };
            let w: Vec<f32> = (0..n * k).map(|_| value(&mut rng)).collect();
            let x: Vec<f32> = (0..k).map(|_| value(&mut rng)).collect();
            let packed = PackedF32::new(simd, &w, n, k).unwrap();
            let mut y = vec![0.0f32; n];
            packed.matvec(&x, &mut y);
            let split = rng.usize(0, k);
            for (j, &got) in y.iter().enumerate() {
                let mut want = 0.0f32;
                for (&w, &x) in w[j * k..(j + 1) * k].iter().zip(&x) {
                    want += w * x;
                }
                let name = simd.isa().name();
                assert_eq!(
                    got.to_bits(),
                    want.to_bits(),
                    "{name} round {round} unit {j}"
                );
                // The same sums in two segments, as the convolution feeds them.
                let mut acc = [0.0f32; F32_LANES];
                packed.accumulate(j / F32_LANES, &mut acc, 0, &x[..split]);
                packed.accumulate(j / F32_LANES, &mut acc, split, &x[split..]);
                let segmented = acc[j % F32_LANES];
                assert_eq!(
                    segmented.to_bits(),
                    want.to_bits(),
                    "{name} split at {split}"
                );
            }
        }
    }
}
