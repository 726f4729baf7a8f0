//! x86_64 microkernels: AVX-512 VNNI, AVX-VNNI and AVX2.
//!
//! Each entry point is an `unsafe fn` whose contract is the one its caller in `mod.rs`
//! checks: the CPU has the instructions (a `Simd` exists) and every pointer in the call is
//! valid for the extent described on [`Block`] / [`DwCall`]. The helpers are
//! `#[inline(always)]` so that they are compiled inside the `#[target_feature]` function that
//! calls them.

use core::arch::x86_64::*;

use super::{AddCall, AddTerms, Block, DwCall, RequantPtrs};

// ---------------------------------------------------------------------------------------------
// Output stage
// ---------------------------------------------------------------------------------------------

/// The output-stage terms of 16 channels, in registers.
struct Terms16 {
    bias: __m512i,
    multiplier: __m512i,
    left: __m512i,
    right: __m512i,
    mask: __m512i,
    half: __m512i,
    zero_point: __m512i,
    lo: __m512i,
    hi: __m512i,
}

impl Terms16 {
    /// Channels `c..c + 16` of `q`.
    ///
    /// # Safety
    /// AVX-512F; the arrays behind `q` hold 16 values from `c` (they are padded).
    #[inline(always)]
    unsafe fn load(q: &RequantPtrs, c: usize) -> Self {
        // SAFETY: the caller's contract.
        unsafe {
            Terms16 {
                bias: _mm512_loadu_si512(q.bias.add(c).cast()),
                multiplier: _mm512_loadu_si512(q.multiplier.add(c).cast()),
                left: _mm512_loadu_si512(q.left.add(c).cast()),
                right: _mm512_loadu_si512(q.right.add(c).cast()),
                mask: _mm512_loadu_si512(q.mask.add(c).cast()),
                half: _mm512_loadu_si512(q.half.add(c).cast()),
                zero_point: _mm512_set1_epi32(q.zero_point),
                lo: _mm512_set1_epi32(q.lo),
                hi: _mm512_set1_epi32(q.hi),
            }
        }
    }

    /// One multiplier and right shift for every lane, no bias, zero point or clamp: the
    /// `MultiplyByQuantizedMultiplierSmallerThanOne` step of a quantized ADD.
    ///
    /// # Safety
    /// AVX-512F.
    #[inline(always)]
    unsafe fn uniform(multiplier: i32, right: i32, zero_point: i32, lo: i32, hi: i32) -> Self {
        // SAFETY: register-only intrinsics.
        unsafe {
            let mask = ((1i64 << right) - 1) as i32;
            Terms16 {
                bias: _mm512_setzero_si512(),
                multiplier: _mm512_set1_epi32(multiplier),
                left: _mm512_setzero_si512(),
                right: _mm512_set1_epi32(right),
                mask: _mm512_set1_epi32(mask),
                half: _mm512_set1_epi32(mask >> 1),
                zero_point: _mm512_set1_epi32(zero_point),
                lo: _mm512_set1_epi32(lo),
                hi: _mm512_set1_epi32(hi),
            }
        }
    }

    /// TFLite's `MultiplyByQuantizedMultiplier` + zero point + clamp on 16 sums, in the
    /// arrangement `Requant::one` spells out: the doubling high multiply in 64-bit lanes
    /// (even and odd lanes separately, `(p + 2^30) >> 31`, exact since the multiplier is never
    /// `i32::MIN`), then the rounding right shift as gemmlowp's mask/threshold test.
    ///
    /// # Safety
    /// AVX-512F.
    #[inline(always)]
    unsafe fn apply(&self, acc: __m512i) -> __m512i {
        // SAFETY: register-only intrinsics; the caller guarantees AVX-512F.
        unsafe {
            let x = _mm512_sllv_epi32(_mm512_add_epi32(acc, self.bias), self.left);
            let nudge = _mm512_set1_epi64(1 << 30);
            let even = _mm512_mul_epi32(x, self.multiplier);
            let odd = _mm512_mul_epi32(
                _mm512_srli_epi64::<32>(x),
                _mm512_srli_epi64::<32>(self.multiplier),
            );
            // The result fits in i32: bits 31..62 of the 64-bit sum, low half for even lanes,
            // moved to the high half for odd ones.
            let even = _mm512_srli_epi64::<31>(_mm512_add_epi64(even, nudge));
            let odd = _mm512_slli_epi64::<1>(_mm512_add_epi64(odd, nudge));
            let high = _mm512_mask_blend_epi32(0xAAAA, even, odd);
            let remainder = _mm512_and_si512(high, self.mask);
            let threshold = _mm512_sub_epi32(self.half, _mm512_srai_epi32::<31>(high));
            let shifted = _mm512_srav_epi32(high, self.right);
            let up = _mm512_cmpgt_epi32_mask(remainder, threshold);
            let v = _mm512_mask_add_epi32(shifted, up, shifted, _mm512_set1_epi32(1));
            let v = _mm512_add_epi32(v, self.zero_point);
            _mm512_min_epi32(_mm512_max_epi32(v, self.lo), self.hi)
        }
    }
}

/// [`Terms16`] on 8 lanes, with AVX2.
struct Terms8 {
    bias: __m256i,
    multiplier: __m256i,
    left: __m256i,
    right: __m256i,
    mask: __m256i,
    half: __m256i,
    zero_point: __m256i,
    lo: __m256i,
    hi: __m256i,
}

impl Terms8 {
    /// Channels `c..c + 8` of `q`.
    ///
    /// # Safety
    /// AVX2; the arrays behind `q` hold 8 values from `c`.
    #[inline(always)]
    unsafe fn load(q: &RequantPtrs, c: usize) -> Self {
        // SAFETY: the caller's contract.
        unsafe {
            Terms8 {
                bias: _mm256_loadu_si256(q.bias.add(c).cast()),
                multiplier: _mm256_loadu_si256(q.multiplier.add(c).cast()),
                left: _mm256_loadu_si256(q.left.add(c).cast()),
                right: _mm256_loadu_si256(q.right.add(c).cast()),
                mask: _mm256_loadu_si256(q.mask.add(c).cast()),
                half: _mm256_loadu_si256(q.half.add(c).cast()),
                zero_point: _mm256_set1_epi32(q.zero_point),
                lo: _mm256_set1_epi32(q.lo),
                hi: _mm256_set1_epi32(q.hi),
            }
        }
    }

    /// As [`Terms16::uniform`].
    ///
    /// # Safety
    /// AVX2.
    #[inline(always)]
    unsafe fn uniform(multiplier: i32, right: i32, zero_point: i32, lo: i32, hi: i32) -> Self {
        // SAFETY: register-only intrinsics.
        unsafe {
            let mask = ((1i64 << right) - 1) as i32;
            Terms8 {
                bias: _mm256_setzero_si256(),
                multiplier: _mm256_set1_epi32(multiplier),
                left: _mm256_setzero_si256(),
                right: _mm256_set1_epi32(right),
                mask: _mm256_set1_epi32(mask),
                half: _mm256_set1_epi32(mask >> 1),
                zero_point: _mm256_set1_epi32(zero_point),
                lo: _mm256_set1_epi32(lo),
                hi: _mm256_set1_epi32(hi),
            }
        }
    }

    /// As [`Terms16::apply`].
    ///
    /// # Safety
    /// AVX2.
    #[inline(always)]
    unsafe fn apply(&self, acc: __m256i) -> __m256i {
        // SAFETY: register-only intrinsics; the caller guarantees AVX2.
        unsafe {
            let x = _mm256_sllv_epi32(_mm256_add_epi32(acc, self.bias), self.left);
            let nudge = _mm256_set1_epi64x(1 << 30);
            let even = _mm256_mul_epi32(x, self.multiplier);
            let odd = _mm256_mul_epi32(
                _mm256_srli_epi64::<32>(x),
                _mm256_srli_epi64::<32>(self.multiplier),
            );
            let even = _mm256_srli_epi64::<31>(_mm256_add_epi64(even, nudge));
            let odd = _mm256_slli_epi64::<1>(_mm256_add_epi64(odd, nudge));
            let high = _mm256_blend_epi32::<0b1010_1010>(even, odd);
            let remainder = _mm256_and_si256(high, self.mask);
            let threshold = _mm256_sub_epi32(self.half, _mm256_srai_epi32::<31>(high));
            // A true comparison is −1: subtracting it rounds up.
            let v = _mm256_sub_epi32(
                _mm256_srav_epi32(high, self.right),
                _mm256_cmpgt_epi32(remainder, threshold),
            );
            let v = _mm256_add_epi32(v, self.zero_point);
            _mm256_min_epi32(_mm256_max_epi32(v, self.lo), self.hi)
        }
    }
}

/// Sixteen i32 lanes already clamped to int8, narrowed and stored at `dst` (the lanes of
/// `mask`): narrowed in a register and stored whole when the mask is full, which is faster
/// than narrowing straight into memory.
///
/// # Safety
/// AVX-512 F/BW/VL; `dst` valid for the masked lanes.
#[inline(always)]
unsafe fn store_bytes16(dst: *mut i8, mask: __mmask16, v: __m512i) {
    // SAFETY: the caller's contract.
    unsafe {
        let bytes = _mm512_cvtepi32_epi8(v);
        if mask == 0xFFFF {
            _mm_storeu_si128(dst.cast(), bytes);
        } else {
            _mm_mask_storeu_epi8(dst, mask, bytes);
        }
    }
}

/// Eight i32 lanes already clamped to int8, narrowed into the low 8 bytes.
///
/// # Safety
/// AVX2.
#[inline(always)]
unsafe fn narrow8(v: __m256i) -> __m128i {
    // SAFETY: register-only intrinsics; the caller guarantees AVX2.
    unsafe {
        let words = _mm256_packs_epi32(v, v);
        let bytes = _mm256_packs_epi16(words, words);
        _mm_unpacklo_epi32(
            _mm256_castsi256_si128(bytes),
            _mm256_extracti128_si256::<1>(bytes),
        )
    }
}

/// Stores the low `n` (≤ 8) bytes of `v` at `dst`.
///
/// # Safety
/// SSE2; `dst` valid for `n` bytes.
#[inline(always)]
unsafe fn store_bytes8(dst: *mut i8, v: __m128i, n: usize) {
    // SAFETY: the caller's contract; the partial store goes through a stack copy.
    unsafe {
        if n >= 8 {
            _mm_storel_epi64(dst.cast(), v);
        } else {
            let mut tmp = [0i8; 16];
            _mm_storeu_si128(tmp.as_mut_ptr().cast(), v);
            core::ptr::copy_nonoverlapping(tmp.as_ptr(), dst, n);
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

/// AVX-512 VNNI: `mr` rows × `nr` vectors of 16 channels.
///
/// # Safety
/// AVX-512 F/BW/VL/VNNI present; `block` valid as documented on [`Block`] for a panel of `nr`
/// vectors and `mr` rows.
pub(super) unsafe fn gemm_avx512vnni(mr: usize, nr: usize, block: &Block) {
    // SAFETY: forwarded contract.
    unsafe { dispatch!(gemm_avx512vnni_k, mr, nr, block, 6, [1, 2, 3, 4]) }
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn gemm_avx512vnni_k<const MR: usize, const NR: usize>(b: &Block) {
    // SAFETY: the rows of `a` hold `steps · 4` bytes each and the panel `steps · NR` vectors
    // (the contract); everything else is registers.
    unsafe {
        let mut acc = [[_mm512_setzero_si512(); NR]; MR];
        let mut w = b.w.cast::<__m512i>();
        let mut a = b.a;
        // x ^ 0x80 is x + 128 as an unsigned byte.
        let flip = _mm512_set1_epi8(i8::MIN);
        for _ in 0..b.steps {
            let mut wv = [_mm512_setzero_si512(); NR];
            for (j, v) in wv.iter_mut().enumerate() {
                *v = _mm512_loadu_si512(w.add(j));
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let x = _mm512_set1_epi32(a.add(r * b.a_stride).cast::<i32>().read_unaligned());
                let x = _mm512_xor_si512(x, flip);
                for (s, &v) in row.iter_mut().zip(&wv) {
                    *s = _mm512_dpbusd_epi32(*s, x, v);
                }
            }
            w = w.add(NR);
            a = a.add(4);
        }
        // The stores below index the sums by row and vector at run time; reading them from a
        // copy keeps `acc` itself in registers through the loop above.
        let mut spill = [[_mm512_setzero_si512(); NR]; MR];
        for (s, a) in spill.iter_mut().zip(&acc) {
            for (s, &a) in s.iter_mut().zip(a) {
                _mm512_storeu_si512(s, a);
            }
        }
        let acc = &spill;
        for j in 0..NR {
            let c = 16 * j;
            let left = b.width - c;
            let mask: __mmask16 = if left >= 16 { 0xFFFF } else { (1 << left) - 1 };
            match &b.requant {
                Some(q) => {
                    let t = Terms16::load(q, c);
                    for (r, row) in acc.iter().enumerate() {
                        if r < b.rows {
                            let dst = b.out.cast::<i8>().add(r * b.out_stride + c);
                            store_bytes16(dst, mask, t.apply(row[j]));
                        }
                    }
                }
                None => {
                    for (r, row) in acc.iter().enumerate() {
                        if r < b.rows {
                            let dst = b.out.cast::<i32>().add(r * b.out_stride + c);
                            _mm512_mask_storeu_epi32(dst, mask, row[j]);
                        }
                    }
                }
            }
        }
    }
}

/// AVX-VNNI: `mr` rows × `nr` vectors of 8 channels.
///
/// # Safety
/// AVX2 and AVX-VNNI present; `block` as for [`gemm_avx512vnni`].
pub(super) unsafe fn gemm_avxvnni(mr: usize, nr: usize, block: &Block) {
    // SAFETY: forwarded contract.
    unsafe { dispatch!(gemm_avxvnni_k, mr, nr, block, 6, [1, 2]) }
}

#[target_feature(enable = "avx2,avxvnni")]
unsafe fn gemm_avxvnni_k<const MR: usize, const NR: usize>(b: &Block) {
    // SAFETY: as in `gemm_avx512vnni_k`, with 32-byte vectors.
    unsafe {
        let mut acc = [[_mm256_setzero_si256(); NR]; MR];
        let mut w = b.w.cast::<__m256i>();
        let mut a = b.a;
        // x ^ 0x80 is x + 128 as an unsigned byte.
        let flip = _mm256_set1_epi8(i8::MIN);
        for _ in 0..b.steps {
            let mut wv = [_mm256_setzero_si256(); NR];
            for (j, v) in wv.iter_mut().enumerate() {
                *v = _mm256_loadu_si256(w.add(j));
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let x = _mm256_set1_epi32(a.add(r * b.a_stride).cast::<i32>().read_unaligned());
                let x = _mm256_xor_si256(x, flip);
                for (s, &v) in row.iter_mut().zip(&wv) {
                    *s = _mm256_dpbusd_avx_epi32(*s, x, v);
                }
            }
            w = w.add(NR);
            a = a.add(4);
        }
        store8::<MR, NR>(&spill8(&acc), b);
    }
}

/// AVX2: `mr` rows × `nr` vectors of 8 channels, on i16 pairs.
///
/// # Safety
/// AVX2 present; `block` as for [`gemm_avx512vnni`], with i16 rows and weights.
pub(super) unsafe fn gemm_avx2(mr: usize, nr: usize, block: &Block) {
    // SAFETY: forwarded contract.
    unsafe { dispatch!(gemm_avx2_k, mr, nr, block, 6, [1, 2]) }
}

#[target_feature(enable = "avx2")]
unsafe fn gemm_avx2_k<const MR: usize, const NR: usize>(b: &Block) {
    // SAFETY: the rows of `a` hold `steps · 2` i16 each and the panel `steps · NR` vectors.
    unsafe {
        let mut acc = [[_mm256_setzero_si256(); NR]; MR];
        let mut w = b.w.cast::<__m256i>();
        let mut a = b.a.cast::<i16>();
        for _ in 0..b.steps {
            let mut wv = [_mm256_setzero_si256(); NR];
            for (j, v) in wv.iter_mut().enumerate() {
                *v = _mm256_loadu_si256(w.add(j));
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let x = _mm256_set1_epi32(a.add(r * b.a_stride).cast::<i32>().read_unaligned());
                for (s, &v) in row.iter_mut().zip(&wv) {
                    // Two i16 products summed into i32: exact (no saturation).
                    *s = _mm256_add_epi32(*s, _mm256_madd_epi16(x, v));
                }
            }
            w = w.add(NR);
            a = a.add(2);
        }
        store8::<MR, NR>(&spill8(&acc), b);
    }
}

/// A copy of the sums for [`store8`], which indexes them at run time: the copy keeps the
/// kernel's own accumulators in registers.
///
/// # Safety
/// AVX.
#[inline(always)]
unsafe fn spill8<const MR: usize, const NR: usize>(
    acc: &[[__m256i; NR]; MR],
) -> [[__m256i; NR]; MR] {
    // SAFETY: stores into a local array.
    unsafe {
        let mut spill = [[_mm256_setzero_si256(); NR]; MR];
        for (s, a) in spill.iter_mut().zip(acc) {
            for (s, &a) in s.iter_mut().zip(a) {
                _mm256_storeu_si256(s, a);
            }
        }
        spill
    }
}

/// The stores of the 8-lane kernels: through the output stage, or raw.
///
/// # Safety
/// AVX2; `b.out` valid for `b.rows` rows of `b.width` values from channel 0.
#[inline(always)]
unsafe fn store8<const MR: usize, const NR: usize>(acc: &[[__m256i; NR]; MR], b: &Block) {
    // SAFETY: the caller's contract.
    unsafe {
        for j in 0..NR {
            let c = 8 * j;
            let left = b.width - c;
            match &b.requant {
                Some(q) => {
                    let t = Terms8::load(q, c);
                    for (r, row) in acc.iter().enumerate() {
                        if r < b.rows {
                            let dst = b.out.cast::<i8>().add(r * b.out_stride + c);
                            store_bytes8(dst, narrow8(t.apply(row[j])), left);
                        }
                    }
                }
                None => {
                    for (r, row) in acc.iter().enumerate() {
                        if r < b.rows {
                            let dst = b.out.cast::<i32>().add(r * b.out_stride + c);
                            if left >= 8 {
                                _mm256_storeu_si256(dst.cast(), row[j]);
                            } else {
                                let mut tmp = [0i32; 8];
                                _mm256_storeu_si256(tmp.as_mut_ptr().cast(), row[j]);
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
// Depthwise
// ---------------------------------------------------------------------------------------------

/// A run of output pixels of a depthwise convolution, 16 channels at a time (the output
/// stage's terms loaded once per block of channels): each pair of taps is interleaved
/// channel by channel, sign-extended to i16 and multiply-added (`vpdpwssd`) with the packed
/// weight pairs.
///
/// # Safety
/// AVX-512 F/BW/VL/VNNI present; `call` valid as documented on [`DwCall`] for 16-lane
/// packing.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
pub(super) unsafe fn depthwise_avx512(call: &DwCall) {
    // SAFETY: every tap holds `channels` values at each pixel's offset and the masked loads
    // read no further; the weights hold `pairs · 32` i16 per block; `out` holds `count`
    // pixels of `channels` values.
    unsafe {
        let mut c = 0;
        let mut weights = call.weights;
        while c < call.channels {
            let left = call.channels - c;
            let mask: __mmask16 = if left >= 16 { 0xFFFF } else { (1 << left) - 1 };
            let terms = Terms16::load(&call.requant, c);
            for px in 0..call.count {
                let at = px * call.stride + c;
                let mut acc = _mm512_setzero_si512();
                let mut w = weights;
                for p in 0..call.pairs {
                    let xa = _mm_maskz_loadu_epi8(mask, (*call.taps.add(2 * p)).add(at));
                    let xb = _mm_maskz_loadu_epi8(mask, (*call.taps.add(2 * p + 1)).add(at));
                    let x = _mm512_cvtepi8_epi16(_mm256_set_m128i(
                        _mm_unpackhi_epi8(xa, xb),
                        _mm_unpacklo_epi8(xa, xb),
                    ));
                    acc = _mm512_dpwssd_epi32(acc, x, _mm512_loadu_si512(w.cast()));
                    w = w.add(32);
                }
                let dst = call.out.add(px * call.channels + c);
                store_bytes16(dst, mask, terms.apply(acc));
            }
            weights = weights.add(32 * call.pairs);
            c += 16;
        }
    }
}

/// The `n` (≤ 8 used) bytes at `p` in the low half of a vector.
///
/// # Safety
/// SSE2; `p` valid for `min(n, 8)` bytes.
#[inline(always)]
unsafe fn load_bytes8(p: *const i8, n: usize) -> __m128i {
    // SAFETY: the caller's contract; a partial load goes through a stack copy.
    unsafe {
        if n >= 8 {
            _mm_loadl_epi64(p.cast())
        } else {
            let mut tmp = [0i8; 16];
            core::ptr::copy_nonoverlapping(p, tmp.as_mut_ptr(), n);
            _mm_loadu_si128(tmp.as_ptr().cast())
        }
    }
}

/// [`depthwise_avx512`] with AVX2, 8 channels at a time (`vpmaddwd`).
///
/// # Safety
/// AVX2 present; `call` valid for 8-lane packing.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn depthwise_avx2(call: &DwCall) {
    // SAFETY: as in `depthwise_avx512`; partial blocks go through stack copies.
    unsafe {
        let mut c = 0;
        let mut weights = call.weights;
        while c < call.channels {
            let left = call.channels - c;
            let terms = Terms8::load(&call.requant, c);
            for px in 0..call.count {
                let at = px * call.stride + c;
                let mut acc = _mm256_setzero_si256();
                let mut w = weights;
                for p in 0..call.pairs {
                    let xa = load_bytes8((*call.taps.add(2 * p)).add(at), left);
                    let xb = load_bytes8((*call.taps.add(2 * p + 1)).add(at), left);
                    let x = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(xa, xb));
                    let v = _mm256_madd_epi16(x, _mm256_loadu_si256(w.cast()));
                    acc = _mm256_add_epi32(acc, v);
                    w = w.add(16);
                }
                let dst = call.out.add(px * call.channels + c);
                store_bytes8(dst, narrow8(terms.apply(acc)), left);
            }
            weights = weights.add(16 * call.pairs);
            c += 8;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Element-wise ADD/SUB
// ---------------------------------------------------------------------------------------------

/// The three rescales of a quantized ADD as 16-lane terms.
///
/// # Safety
/// AVX-512F.
#[inline(always)]
unsafe fn add_terms16(t: &AddTerms) -> [Terms16; 3] {
    // SAFETY: register-only intrinsics.
    unsafe {
        [
            Terms16::uniform(t.a_multiplier, t.a_right, 0, i32::MIN, i32::MAX),
            Terms16::uniform(t.b_multiplier, t.b_right, 0, i32::MIN, i32::MAX),
            Terms16::uniform(t.out_multiplier, t.out_right, t.out_zero_point, t.lo, t.hi),
        ]
    }
}

/// Element-wise int8 ADD/SUB, 16 values at a time (masked at the tail).
///
/// # Safety
/// AVX-512 F/BW/VL present; `call`'s pointers valid for `len` values.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub(super) unsafe fn add_avx512(call: &AddCall) {
    // SAFETY: masked loads and stores touch only the first `len` values.
    unsafe {
        let t = &call.terms;
        let [ta, tb, to] = add_terms16(t);
        let (za, zb) = (
            _mm512_set1_epi32(t.a_zero_point),
            _mm512_set1_epi32(t.b_zero_point),
        );
        let mut i = 0;
        while i < call.len {
            let left = call.len - i;
            let mask: __mmask16 = if left >= 16 { 0xFFFF } else { (1 << left) - 1 };
            let xa = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, call.a.add(i)));
            let xb = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, call.b.add(i)));
            // |q − zero_point| ≤ 255, so the shift by 20 cannot overflow.
            let va = ta.apply(_mm512_slli_epi32::<20>(_mm512_sub_epi32(xa, za)));
            let vb = tb.apply(_mm512_slli_epi32::<20>(_mm512_sub_epi32(xb, zb)));
            let sum = if t.subtract {
                _mm512_sub_epi32(va, vb)
            } else {
                _mm512_add_epi32(va, vb)
            };
            store_bytes16(call.out.add(i), mask, to.apply(sum));
            i += 16;
        }
    }
}

/// [`add_avx512`] with AVX2, 8 values at a time.
///
/// # Safety
/// AVX2 present; `call`'s pointers valid for `len` values.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn add_avx2(call: &AddCall) {
    // SAFETY: partial blocks go through stack copies; nothing past `len` is touched.
    unsafe {
        let t = &call.terms;
        let ta = Terms8::uniform(t.a_multiplier, t.a_right, 0, i32::MIN, i32::MAX);
        let tb = Terms8::uniform(t.b_multiplier, t.b_right, 0, i32::MIN, i32::MAX);
        let to = Terms8::uniform(t.out_multiplier, t.out_right, t.out_zero_point, t.lo, t.hi);
        let (za, zb) = (
            _mm256_set1_epi32(t.a_zero_point),
            _mm256_set1_epi32(t.b_zero_point),
        );
        let mut i = 0;
        while i < call.len {
            let left = call.len - i;
            let xa = _mm256_cvtepi8_epi32(load_bytes8(call.a.add(i), left));
            let xb = _mm256_cvtepi8_epi32(load_bytes8(call.b.add(i), left));
            let va = ta.apply(_mm256_slli_epi32::<20>(_mm256_sub_epi32(xa, za)));
            let vb = tb.apply(_mm256_slli_epi32::<20>(_mm256_sub_epi32(xb, zb)));
            let sum = if t.subtract {
                _mm256_sub_epi32(va, vb)
            } else {
                _mm256_add_epi32(va, vb)
            };
            store_bytes8(call.out.add(i), narrow8(to.apply(sum)), left);
            i += 8;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Float lanes
// ---------------------------------------------------------------------------------------------

/// The portable lane-parallel float loop compiled with AVX-512 (16 lanes in one register).
///
/// # Safety
/// AVX-512F present.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn accumulate_f32_avx512(acc: &mut [f32; 16], w: &[f32], x: &[f32]) {
    super::accumulate_f32_lanes(acc, w, x);
}

/// The portable lane-parallel float loop compiled with AVX (two 8-lane registers).
///
/// # Safety
/// AVX2 present.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn accumulate_f32_avx2(acc: &mut [f32; 16], w: &[f32], x: &[f32]) {
    super::accumulate_f32_lanes(acc, w, x);
}
