//! aarch64 microkernels: Advanced SIMD (baseline on aarch64) and the dot-product extension.
//!
//! As in `x86.rs`, each entry point is an `unsafe fn` whose contract its caller in `mod.rs`
//! checks (the CPU has the instructions; every pointer is valid for the extent described on
//! [`Block`] / [`DwCall`]), and the helpers are `#[inline(always)]`.
//!
//! `vdotq_s32` is still unstable in Rust, so the dot-product kernel issues `sdot` through
//! `asm!` from a function compiled with the `dotprod` feature.

use core::arch::aarch64::*;

use super::{AddCall, Block, DwCall, RequantPtrs};

// ---------------------------------------------------------------------------------------------
// Output stage
// ---------------------------------------------------------------------------------------------

/// The output-stage terms of 4 channels, in registers.
struct Terms4 {
    bias: int32x4_t,
    multiplier: int32x4_t,
    left: int32x4_t,
    /// `−right`: `sshl` by a negative count is an arithmetic right shift.
    neg_right: int32x4_t,
    mask: int32x4_t,
    half: int32x4_t,
    zero_point: int32x4_t,
    lo: int32x4_t,
    hi: int32x4_t,
}

impl Terms4 {
    /// Channels `c..c + 4` of `q`.
    ///
    /// # Safety
    /// The arrays behind `q` hold 4 values from `c` (they are padded).
    #[inline(always)]
    unsafe fn load(q: &RequantPtrs, c: usize) -> Self {
        // SAFETY: the caller's contract.
        unsafe {
            Terms4 {
                bias: vld1q_s32(q.bias.add(c)),
                multiplier: vld1q_s32(q.multiplier.add(c)),
                left: vld1q_s32(q.left.add(c)),
                neg_right: vnegq_s32(vld1q_s32(q.right.add(c))),
                mask: vld1q_s32(q.mask.add(c)),
                half: vld1q_s32(q.half.add(c)),
                zero_point: vdupq_n_s32(q.zero_point),
                lo: vdupq_n_s32(q.lo),
                hi: vdupq_n_s32(q.hi),
            }
        }
    }

    /// One multiplier and right shift for every lane, no bias, zero point or clamp: the
    /// `MultiplyByQuantizedMultiplierSmallerThanOne` step of a quantized ADD.
    ///
    /// # Safety
    /// Advanced SIMD.
    #[inline(always)]
    unsafe fn uniform(multiplier: i32, right: i32, zero_point: i32, lo: i32, hi: i32) -> Self {
        // SAFETY: register-only intrinsics.
        unsafe {
            let mask = ((1i64 << right) - 1) as i32;
            Terms4 {
                bias: vdupq_n_s32(0),
                multiplier: vdupq_n_s32(multiplier),
                left: vdupq_n_s32(0),
                neg_right: vdupq_n_s32(-right),
                mask: vdupq_n_s32(mask),
                half: vdupq_n_s32(mask >> 1),
                zero_point: vdupq_n_s32(zero_point),
                lo: vdupq_n_s32(lo),
                hi: vdupq_n_s32(hi),
            }
        }
    }

    /// TFLite's output stage on 4 sums (as `Requant::one`): `sqrdmulh` is exactly gemmlowp's
    /// `SaturatingRoundingDoublingHighMul` (`(2ab + 2^31) >> 32`, saturating the one case
    /// both do), then the rounding right shift as the mask/threshold test.
    ///
    /// # Safety
    /// Advanced SIMD (always on aarch64).
    #[inline(always)]
    unsafe fn apply(&self, acc: int32x4_t) -> int32x4_t {
        // SAFETY: register-only intrinsics.
        unsafe {
            let x = vshlq_s32(vaddq_s32(acc, self.bias), self.left);
            let high = vqrdmulhq_s32(x, self.multiplier);
            let remainder = vandq_s32(high, self.mask);
            let threshold = vsubq_s32(self.half, vshrq_n_s32::<31>(high));
            let up = vreinterpretq_s32_u32(vcgtq_s32(remainder, threshold));
            // A true comparison is −1: subtracting it rounds up.
            let v = vsubq_s32(vshlq_s32(high, self.neg_right), up);
            let v = vaddq_s32(v, self.zero_point);
            vminq_s32(vmaxq_s32(v, self.lo), self.hi)
        }
    }
}

/// Two vectors of 4 lanes already clamped to int8, narrowed to 8 bytes.
///
/// # Safety
/// Advanced SIMD.
#[inline(always)]
unsafe fn narrow8(a: int32x4_t, b: int32x4_t) -> int8x8_t {
    // SAFETY: register-only intrinsics.
    unsafe { vmovn_s16(vcombine_s16(vmovn_s32(a), vmovn_s32(b))) }
}

/// Stores the first `n` (≤ 8 used) bytes of `v` at `dst`.
///
/// # Safety
/// `dst` valid for `min(n, 8)` bytes.
#[inline(always)]
unsafe fn store_bytes8(dst: *mut i8, v: int8x8_t, n: usize) {
    // SAFETY: the caller's contract; a partial store goes through a stack copy.
    unsafe {
        if n >= 8 {
            vst1_s8(dst, v);
        } else {
            let mut tmp = [0i8; 8];
            vst1_s8(tmp.as_mut_ptr(), v);
            core::ptr::copy_nonoverlapping(tmp.as_ptr(), dst, n);
        }
    }
}

/// Loads the first `n` (≤ 8 used) bytes at `p`.
///
/// # Safety
/// `p` valid for `min(n, 8)` bytes.
#[inline(always)]
unsafe fn load_bytes8(p: *const i8, n: usize) -> int8x8_t {
    // SAFETY: the caller's contract; a partial load goes through a stack copy.
    unsafe {
        if n >= 8 {
            vld1_s8(p)
        } else {
            let mut tmp = [0i8; 8];
            core::ptr::copy_nonoverlapping(p, tmp.as_mut_ptr(), n);
            vld1_s8(tmp.as_ptr())
        }
    }
}

/// Stores `rows` rows of `NR` vectors of 4 sums: through the output stage, or raw.
///
/// # Safety
/// `b.out` valid for `b.rows` rows of `b.width` values from channel 0; the requant arrays
/// padded to whole panels.
#[inline(always)]
unsafe fn store4<const MR: usize, const NR: usize>(acc: &[[int32x4_t; NR]; MR], b: &Block) {
    // SAFETY: the caller's contract.
    unsafe {
        match &b.requant {
            Some(q) => {
                // Pairs of vectors: 8 channels per narrowing.
                let mut j = 0;
                while j < NR {
                    let c = 4 * j;
                    let left = b.width - c;
                    let t0 = Terms4::load(q, c);
                    let t1 = Terms4::load(q, c + 4);
                    for (r, row) in acc.iter().enumerate() {
                        if r < b.rows {
                            let second = if j + 1 < NR {
                                t1.apply(row[j + 1])
                            } else {
                                vdupq_n_s32(0)
                            };
                            let v = narrow8(t0.apply(row[j]), second);
                            store_bytes8(b.out.cast::<i8>().add(r * b.out_stride + c), v, left);
                        }
                    }
                    j += 2;
                }
            }
            None => {
                for j in 0..NR {
                    let c = 4 * j;
                    let left = b.width - c;
                    for (r, row) in acc.iter().enumerate() {
                        if r < b.rows {
                            let dst = b.out.cast::<i32>().add(r * b.out_stride + c);
                            if left >= 4 {
                                vst1q_s32(dst, row[j]);
                            } else {
                                let mut tmp = [0i32; 4];
                                vst1q_s32(tmp.as_mut_ptr(), row[j]);
                                core::ptr::copy_nonoverlapping(tmp.as_ptr(), dst, left);
                            }
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Matrix product
// ---------------------------------------------------------------------------------------------

/// Expands to a `match` over the (rows, vectors) shapes a path is instantiated for.
macro_rules! dispatch {
    ($kernel:ident, $mr:expr, $nr:expr, $block:expr, $max_mr:literal, [$($nr_v:literal),+]) => {
        match ($mr, $nr) {
            $( (1, $nr_v) => $kernel::<1, $nr_v>($block), )+
            $( ($max_mr, $nr_v) => $kernel::<$max_mr, $nr_v>($block), )+
            other => unreachable!("no kernel for {other:?}"),
        }
    };
}

/// Advanced SIMD: `mr` rows × `nr` vectors of 4 channels, each step multiplying 4 bytes of a
/// row (broadcast) with 4 bytes of each channel (`smull`), pairs summed into i32 (`sadalp`):
/// every accumulator holds two partial sums per channel until the end.
///
/// # Safety
/// `block` valid as documented on [`Block`] for a panel of `nr` vectors and `mr` rows.
pub(super) unsafe fn gemm(mr: usize, nr: usize, block: &Block) {
    // SAFETY: forwarded contract.
    unsafe { dispatch!(gemm_k, mr, nr, block, 4, [1, 2]) }
}

#[target_feature(enable = "neon")]
unsafe fn gemm_k<const MR: usize, const NR: usize>(b: &Block) {
    // SAFETY: the rows of `a` hold `steps · 4` bytes each and the panel `steps · NR` vectors
    // of 16 bytes (the contract); everything else is registers.
    unsafe {
        let mut low = [[vdupq_n_s32(0); NR]; MR];
        let mut high = [[vdupq_n_s32(0); NR]; MR];
        let mut w = b.w.cast::<i8>();
        let mut a = b.a.cast::<i8>();
        for _ in 0..b.steps {
            let mut wv = [vdupq_n_s8(0); NR];
            for (j, v) in wv.iter_mut().enumerate() {
                *v = vld1q_s8(w.add(16 * j));
            }
            for r in 0..MR {
                let x = vreinterpretq_s8_s32(vdupq_n_s32(
                    a.add(r * b.a_stride).cast::<i32>().read_unaligned(),
                ));
                for j in 0..NR {
                    // i8 · i8 fits i16; pairs of them fit i32 exactly.
                    let p0 = vmull_s8(vget_low_s8(x), vget_low_s8(wv[j]));
                    let p1 = vmull_high_s8(x, wv[j]);
                    low[r][j] = vpadalq_s16(low[r][j], p0);
                    high[r][j] = vpadalq_s16(high[r][j], p1);
                }
            }
            w = w.add(16 * NR);
            a = a.add(4);
        }
        // `store4` indexes the sums at run time: it gets them in memory, the accumulators
        // stay in registers.
        let mut spill = [[vdupq_n_s32(0); NR]; MR];
        for ((s, l), h) in spill.iter_mut().zip(&low).zip(&high) {
            for ((s, &l), &h) in s.iter_mut().zip(l).zip(h) {
                vst1q_s32((s as *mut int32x4_t).cast::<i32>(), vpaddq_s32(l, h));
            }
        }
        store4::<MR, NR>(&spill, b);
    }
}

/// `sdot`: each i32 lane of `acc` plus the dot product of its 4 bytes of `a` and `b`.
#[target_feature(enable = "neon,dotprod")]
#[inline]
fn sdot(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let mut acc = acc;
    // SAFETY: a register-only instruction, available with the `dotprod` feature this function
    // is compiled with.
    unsafe {
        core::arch::asm!(
            "sdot {acc:v}.4s, {a:v}.16b, {b:v}.16b",
            acc = inout(vreg) acc,
            a = in(vreg) a,
            b = in(vreg) b,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    acc
}

/// Dot-product extension: `mr` rows × `nr` vectors of 4 channels, `sdot` per step.
///
/// # Safety
/// The `dotprod` feature present; `block` valid as documented on [`Block`].
pub(super) unsafe fn gemm_dot(mr: usize, nr: usize, block: &Block) {
    // SAFETY: forwarded contract.
    unsafe { dispatch!(gemm_dot_k, mr, nr, block, 4, [1, 2, 3, 4]) }
}

#[target_feature(enable = "neon,dotprod")]
unsafe fn gemm_dot_k<const MR: usize, const NR: usize>(b: &Block) {
    // SAFETY: as in `gemm_k`.
    unsafe {
        let mut acc = [[vdupq_n_s32(0); NR]; MR];
        let mut w = b.w.cast::<i8>();
        let mut a = b.a.cast::<i8>();
        for _ in 0..b.steps {
            let mut wv = [vdupq_n_s8(0); NR];
            for (j, v) in wv.iter_mut().enumerate() {
                *v = vld1q_s8(w.add(16 * j));
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let x = vreinterpretq_s8_s32(vdupq_n_s32(
                    a.add(r * b.a_stride).cast::<i32>().read_unaligned(),
                ));
                for (s, &v) in row.iter_mut().zip(&wv) {
                    *s = sdot(*s, x, v);
                }
            }
            w = w.add(16 * NR);
            a = a.add(4);
        }
        let mut spill = [[vdupq_n_s32(0); NR]; MR];
        for (s, a) in spill.iter_mut().zip(&acc) {
            for (s, &a) in s.iter_mut().zip(a) {
                vst1q_s32((s as *mut int32x4_t).cast::<i32>(), a);
            }
        }
        store4::<MR, NR>(&spill, b);
    }
}

// ---------------------------------------------------------------------------------------------
// Depthwise
// ---------------------------------------------------------------------------------------------

/// A run of output pixels of a depthwise convolution, 8 channels at a time: each pair of taps
/// is interleaved channel by channel (`zip`), widened to i16, multiplied by the packed weight
/// pairs (i8 · i8 fits i16) and summed pairwise into i32 (`sadalp`).
///
/// # Safety
/// `call` valid as documented on [`DwCall`] for 8-lane packing.
#[target_feature(enable = "neon")]
pub(super) unsafe fn depthwise(call: &DwCall) {
    // SAFETY: every tap holds `channels` values at each pixel's offset and partial blocks
    // read no further; the weights hold `pairs · 16` i16 per block; `out` holds `count`
    // pixels of `channels` values.
    unsafe {
        let mut c = 0;
        let mut weights = call.weights;
        while c < call.channels {
            let left = call.channels - c;
            let t0 = Terms4::load(&call.requant, c);
            let t1 = Terms4::load(&call.requant, c + 4);
            for px in 0..call.count {
                let at = px * call.stride + c;
                let mut acc0 = vdupq_n_s32(0);
                let mut acc1 = vdupq_n_s32(0);
                let mut w = weights;
                for p in 0..call.pairs {
                    let xa = load_bytes8((*call.taps.add(2 * p)).add(at), left);
                    let xb = load_bytes8((*call.taps.add(2 * p + 1)).add(at), left);
                    let x0 = vmovl_s8(vzip1_s8(xa, xb));
                    let x1 = vmovl_s8(vzip2_s8(xa, xb));
                    acc0 = vpadalq_s16(acc0, vmulq_s16(x0, vld1q_s16(w)));
                    acc1 = vpadalq_s16(acc1, vmulq_s16(x1, vld1q_s16(w.add(8))));
                    w = w.add(16);
                }
                let v = narrow8(t0.apply(acc0), t1.apply(acc1));
                store_bytes8(call.out.add(px * call.channels + c), v, left);
            }
            weights = weights.add(16 * call.pairs);
            c += 8;
        }
    }
}
// ---------------------------------------------------------------------------------------------
// Element-wise ADD/SUB
// ---------------------------------------------------------------------------------------------

/// Element-wise int8 ADD/SUB, 8 values at a time.
///
/// # Safety
/// `call`'s pointers valid for `len` values.
#[target_feature(enable = "neon")]
pub(super) unsafe fn add(call: &AddCall) {
    // SAFETY: partial blocks go through stack copies; nothing past `len` is touched.
    unsafe {
        let t = &call.terms;
        let ta = Terms4::uniform(t.a_multiplier, t.a_right, 0, i32::MIN, i32::MAX);
        let tb = Terms4::uniform(t.b_multiplier, t.b_right, 0, i32::MIN, i32::MAX);
        let to = Terms4::uniform(t.out_multiplier, t.out_right, t.out_zero_point, t.lo, t.hi);
        let (zpa, zpb) = (vdupq_n_s32(t.a_zero_point), vdupq_n_s32(t.b_zero_point));
        let mut i = 0;
        while i < call.len {
            let left = call.len - i;
            let xa = vmovl_s8(load_bytes8(call.a.add(i), left));
            let xb = vmovl_s8(load_bytes8(call.b.add(i), left));
            let halves = [
                (vmovl_s16(vget_low_s16(xa)), vmovl_s16(vget_low_s16(xb))),
                (vmovl_high_s16(xa), vmovl_high_s16(xb)),
            ];
            let mut res = [vdupq_n_s32(0); 2];
            for (r, (a, b)) in res.iter_mut().zip(halves) {
                // |q − zero_point| ≤ 255, so the shift by 20 cannot overflow.
                let va = ta.apply(vshlq_n_s32::<20>(vsubq_s32(a, zpa)));
                let vb = tb.apply(vshlq_n_s32::<20>(vsubq_s32(b, zpb)));
                let sum = if t.subtract {
                    vsubq_s32(va, vb)
                } else {
                    vaddq_s32(va, vb)
                };
                *r = to.apply(sum);
            }
            store_bytes8(call.out.add(i), narrow8(res[0], res[1]), left);
            i += 8;
        }
    }
}
