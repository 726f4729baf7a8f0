//! Explicit SIMD for the loops that dominate int8 inference: the matrix product behind CONV_2D
//! and FULLY_CONNECTED, the per-channel taps of DEPTHWISE_CONV_2D, and TFLite's per-channel
//! output stage. Every path computes the same bits as the portable kernels.
//!
//! Paths, chosen once when an operator is prepared (`Simd::detect`) and stored in its
//! params:
//! - x86_64: AVX-512 VNNI (`vpdpbusd` on 16 lanes), AVX-VNNI (the same on 8 lanes), AVX2
//!   (`vpmaddwd` on sign-extended values), else the portable code (what the compiler makes of
//!   it with SSE2);
//! - aarch64: NEON (`smull` + `sadalp`), or with the dot-product extension `sdot`.
//!
//! With the `std` feature the CPU is asked at run time (`is_x86_feature_detected!`); without
//! it (a `no_std` build) only what the compile target guarantees (`-C target-feature`/
//! `target-cpu`) is used.
//!
//! # Exactness
//! int8 × int8 products are summed in wrapping i32, as TFLite's accumulators are, so any
//! regrouping of the sum gives the same bits. `vpdpbusd` multiplies *unsigned* by signed
//! bytes: activations are offset by 128 (`x ^ 0x80` is `x + 128` as a u8) and the extra
//! `128 · Σ w` is subtracted through the bias, exactly, in i32. Padding taps of a convolution
//! hold the input zero point (in the same representation), whose contribution the folded bias
//! cancels, so TFLite's "padding contributes nothing" needs no special case.
//!
//! # Safety
//! This is the only module of the crate allowed `unsafe`, for two reasons: calling functions
//! compiled for instructions the baseline target lacks (sound because a `Simd` value exists
//! only for paths this CPU has, see `Simd`), and raw-pointer loads and stores in the
//! microkernels (sound because the safe drivers here check every extent against the slices
//! before handing pointers down; each `unsafe` block says which check covers it).
#![allow(unsafe_code)]

use alloc::vec;
use alloc::vec::Vec;

use crate::quant::RescaleTerms;

#[cfg(target_arch = "aarch64")]
mod neon;
#[cfg(target_arch = "x86_64")]
mod x86;

#[cfg(test)]
mod tests;

/// An instruction set the kernels have an explicit path for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// No explicit SIMD: the kernels' portable loops.
    Portable,
    /// x86_64 AVX2: 16-bit multiply-adds (`vpmaddwd`).
    Avx2,
    /// x86_64 AVX-VNNI: 256-bit `vpdpbusd`.
    AvxVnni,
    /// x86_64 AVX-512 (F, BW, VL) with VNNI: 512-bit `vpdpbusd`.
    Avx512Vnni,
    /// aarch64 Advanced SIMD: `smull` and `sadalp`.
    Neon,
    /// aarch64 Advanced SIMD with the dot-product extension: `sdot`.
    NeonDot,
}

impl Isa {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::AvxVnni => "avx-vnni",
            Isa::Avx512Vnni => "avx512-vnni",
            Isa::Neon => "neon",
            Isa::NeonDot => "neon-dotprod",
        }
    }

    /// Whether this CPU runs the path: asked of the CPU with the `std` feature, of the
    /// compile target without.
    pub fn is_available(self) -> bool {
        self.supported()
    }

    fn supported(self) -> bool {
        match self {
            Isa::Portable => true,
            Isa::Avx512Vnni => x86_has!("avx512f", "avx512bw", "avx512vl", "avx512vnni"),
            Isa::AvxVnni => x86_has!("avx2", "avxvnni"),
            Isa::Avx2 => x86_has!("avx2"),
            // Advanced SIMD is part of the aarch64 baseline.
            Isa::Neon => cfg!(target_arch = "aarch64"),
            Isa::NeonDot => aarch64_has!("dotprod"),
        }
    }
}

/// `true` when every listed x86 feature is present: asked of the CPU with `std`, of the
/// compile target without; always `false` on other architectures.
macro_rules! x86_has {
    ($($f:tt),+) => {{
        #[cfg(all(target_arch = "x86_64", feature = "std"))]
        let has = true $(&& std::is_x86_feature_detected!($f))+;
        #[cfg(all(target_arch = "x86_64", not(feature = "std")))]
        let has = true $(&& cfg!(target_feature = $f))+;
        #[cfg(not(target_arch = "x86_64"))]
        let has = false;
        has
    }};
}
use x86_has;

/// As [`x86_has`], for aarch64 features.
macro_rules! aarch64_has {
    ($($f:tt),+) => {{
        #[cfg(all(target_arch = "aarch64", feature = "std"))]
        let has = true $(&& std::arch::is_aarch64_feature_detected!($f))+;
        #[cfg(all(target_arch = "aarch64", not(feature = "std")))]
        let has = true $(&& cfg!(target_feature = $f))+;
        #[cfg(not(target_arch = "aarch64"))]
        let has = false;
        has
    }};
}
use aarch64_has;

/// Every path, best first.
const PREFERENCE: [Isa; 6] = [
    Isa::Avx512Vnni,
    Isa::AvxVnni,
    Isa::Avx2,
    Isa::NeonDot,
    Isa::Neon,
    Isa::Portable,
];

/// A SIMD path this CPU can run.
///
/// The field is private to this module and every constructor checks [`Isa::supported`]
/// first: holding a `Simd` is the proof every `unsafe` call into a `#[target_feature]`
/// function below relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Simd(Isa);

impl Simd {
    /// The best path this CPU runs.
    pub(crate) fn detect() -> Simd {
        Simd(selected())
    }

    /// `isa` when this CPU runs it, else the portable path.
    pub(crate) fn or_portable(isa: Isa) -> Simd {
        if isa.supported() {
            Simd(isa)
        } else {
            Simd(Isa::Portable)
        }
    }

    /// [`available`], printing (with `std`) the paths of this architecture that this CPU
    /// cannot run, so a test run says what it did not cover.
    #[cfg(test)]
    pub(crate) fn available_reporting() -> Vec<Simd> {
        let native: &[Isa] = if cfg!(target_arch = "x86_64") {
            &[Isa::Avx512Vnni, Isa::AvxVnni, Isa::Avx2]
        } else if cfg!(target_arch = "aarch64") {
            &[Isa::NeonDot, Isa::Neon]
        } else {
            &[]
        };
        for isa in native.iter().filter(|isa| !isa.supported()) {
            #[cfg(feature = "std")]
            std::println!(
                "SIMD path {} is not available (on this CPU, or without `std` in the compile \
                 target): not tested",
                isa.name()
            );
            let _ = isa;
        }
        available().into_iter().map(Simd).collect()
    }

    /// The instruction set.
    pub(crate) fn isa(self) -> Isa {
        self.0
    }
}

/// Every path this CPU runs, best first (the portable one last).
pub fn available() -> Vec<Isa> {
    PREFERENCE
        .iter()
        .copied()
        .filter(|isa| isa.supported())
        .collect()
}

/// The path the kernels prepared now would take on this CPU.
pub fn selected() -> Isa {
    PREFERENCE
        .iter()
        .copied()
        .find(|isa| isa.supported())
        .unwrap_or(Isa::Portable)
}

/// Channels the widest kernel stores at once; per-channel arrays are padded to a multiple.
const MAX_PANEL: usize = 64;

/// TFLite's per-channel output stage laid out for vectors: one array per term (padded with
/// inert channels to a multiple of [`MAX_PANEL`]), and the rounding divide rewritten in i32
/// as gemmlowp's `RoundingDivideByPOT` (mask, remainder, threshold), which needs no 64-bit
/// lanes.
#[derive(Debug, Clone)]
pub(crate) struct Requant {
    /// Added to the raw sum first: the folded bias of the caller, in the representation of
    /// the kernel (see [`Gemm::offset`]).
    bias: Vec<i32>,
    multiplier: Vec<i32>,
    left: Vec<i32>,
    right: Vec<i32>,
    /// `2^right − 1`.
    mask: Vec<i32>,
    /// `mask >> 1`.
    half: Vec<i32>,
    zero_point: i32,
    lo: i32,
    hi: i32,
    channels: usize,
}

impl Requant {
    /// The output stage of channels `0..terms.len()`: `bias[c]` is added to each raw sum,
    /// then `terms[c]`, the zero point and the clamp to `[lo, hi]` (within int8) apply.
    pub(crate) fn new(
        terms: &[RescaleTerms],
        bias: &[i32],
        zero_point: i32,
        lo: i32,
        hi: i32,
    ) -> Self {
        debug_assert_eq!(terms.len(), bias.len());
        let channels = terms.len();
        let padded = channels.div_ceil(MAX_PANEL) * MAX_PANEL;
        let column = |f: &dyn Fn(usize) -> i32| -> Vec<i32> {
            (0..padded)
                .map(|c| if c < channels { f(c) } else { 0 })
                .collect()
        };
        let right = |c: usize| terms[c].right_shift as i32;
        Self {
            bias: column(&|c| bias[c]),
            multiplier: column(&|c| terms[c].multiplier),
            left: column(&|c| terms[c].left_shift as i32),
            right: column(&right),
            mask: column(&|c| ((1i64 << right(c)) - 1) as i32),
            half: column(&|c| (((1i64 << right(c)) - 1) >> 1) as i32),
            zero_point,
            lo: lo.clamp(-128, 127),
            hi: hi.clamp(-128, 127),
            channels,
        }
    }

    /// Channels described.
    pub(crate) fn channels(&self) -> usize {
        self.channels
    }

    /// The scalar form of what the vector code computes for channel `c` (tests compare it
    /// with [`crate::quant::rescale`]).
    #[cfg(test)]
    pub(crate) fn one(&self, c: usize, acc: i32) -> i8 {
        let x = acc
            .wrapping_add(self.bias[c])
            .wrapping_shl(self.left[c] as u32);
        let high = ((i64::from(x) * i64::from(self.multiplier[c]) + (1 << 30)) >> 31) as i32;
        let remainder = high & self.mask[c];
        let threshold = self.half[c] + i32::from(high < 0);
        let q = (high >> self.right[c]) + i32::from(remainder > threshold);
        q.wrapping_add(self.zero_point).max(self.lo).min(self.hi) as i8
    }

    /// Pointers to channel `first` of every term: the microkernels read `width` channels from
    /// there, rounded up to their vector width (within the padding).
    fn at(&self, first: usize) -> RequantPtrs {
        debug_assert!(first < self.bias.len());
        RequantPtrs {
            bias: self.bias[first..].as_ptr(),
            multiplier: self.multiplier[first..].as_ptr(),
            left: self.left[first..].as_ptr(),
            right: self.right[first..].as_ptr(),
            mask: self.mask[first..].as_ptr(),
            half: self.half[first..].as_ptr(),
            zero_point: self.zero_point,
            lo: self.lo,
            hi: self.hi,
        }
    }
}

/// Raw pointers into a [`Requant`], valid for reads of whole vectors up to the padding.
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
#[derive(Clone, Copy)]
struct RequantPtrs {
    bias: *const i32,
    multiplier: *const i32,
    left: *const i32,
    right: *const i32,
    mask: *const i32,
    half: *const i32,
    zero_point: i32,
    lo: i32,
    hi: i32,
}

/// How one path lays out the matrix product.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    /// i32 lanes per vector.
    lanes: usize,
    /// Vectors of output channels per panel.
    nr: usize,
    /// Rows (pixels) per block.
    mr: usize,
    /// Depth values per lane per step: 4 (bytes, dot-product instructions) or 2 (i16 pairs).
    group: usize,
    /// Activations and weights widened to i16 (AVX2) rather than bytes.
    words: bool,
    /// What the kernel adds to each activation: 128 where it multiplies unsigned bytes.
    offset: i32,
}

impl Geometry {
    fn of(isa: Isa) -> Geometry {
        let g = |lanes, nr, mr, group, words, offset| Geometry {
            lanes,
            nr,
            mr,
            group,
            words,
            offset,
        };
        match isa {
            Isa::Avx512Vnni => g(16, 4, 6, 4, false, 128),
            Isa::AvxVnni => g(8, 2, 6, 4, false, 128),
            Isa::Avx2 => g(8, 2, 6, 2, true, 0),
            Isa::NeonDot => g(4, 4, 4, 4, false, 0),
            Isa::Neon => g(4, 2, 4, 4, false, 0),
            // Never used: `Gemm::new` refuses the portable path.
            Isa::Portable => g(1, 1, 1, 1, false, 0),
        }
    }

    /// i16 words of working memory for a block of `mr` rows of `depth` (and, for widened
    /// rows, one staging row of bytes).
    fn buffer_words(&self, depth: usize, mr: usize) -> usize {
        if self.words {
            mr * depth + depth.div_ceil(2)
        } else {
            (mr * depth).div_ceil(2)
        }
    }

    /// Output channels per panel.
    fn panel(&self) -> usize {
        self.lanes * self.nr
    }
}

/// Working memory of a matrix product for one block of rows, on the stack.
const A_WORDS: usize = 16 * 1024;

/// The packed weights of `out = rows × [k] · [k × n]`, for one SIMD path.
#[derive(Debug, Clone)]
pub(crate) struct Gemm {
    simd: Simd,
    geometry: Geometry,
    k: usize,
    /// `k` rounded up to the path's depth group.
    depth: usize,
    n: usize,
    /// Panels of `panel` channels (the last one narrower, a whole number of vectors), each
    /// `[depth / group][width][group]`, zeros past `k` and `n`.
    bytes: Vec<i8>,
    words: Vec<i16>,
}

/// Where a matrix product's results go.
pub(crate) enum GemmOut<'a> {
    /// Through the output stage into int8, `n` per row.
    Requant(&'a Requant, &'a mut [i8]),
    /// Raw i32 sums, `n` per row.
    Raw(&'a mut [i32]),
}

impl Gemm {
    /// Packs `weights` (`n` rows of `k`, as TFLite's OHWI filters and `[units, depth]`
    /// weights are) for `simd`. `None` for the portable path, or when a block of rows would
    /// not fit the stack buffer.
    pub(crate) fn new(simd: Simd, weights: &[i8], n: usize, k: usize) -> Option<Gemm> {
        if simd.isa() == Isa::Portable || n == 0 || k == 0 || weights.len() != n * k {
            return None;
        }
        let geometry = Geometry::of(simd.isa());
        let depth = k.div_ceil(geometry.group) * geometry.group;
        // A block of rows must fit the stack buffer.
        if geometry.buffer_words(depth, geometry.mr) > A_WORDS {
            return None;
        }
        let panel = geometry.panel();
        let padded_n = n.div_ceil(geometry.lanes) * geometry.lanes;
        let mut packed = vec![0i16; padded_n * depth];
        let mut at = 0;
        for p0 in (0..n).step_by(panel) {
            let width = (n - p0).min(panel).div_ceil(geometry.lanes) * geometry.lanes;
            for g in 0..depth / geometry.group {
                for lane in 0..width {
                    for i in 0..geometry.group {
                        let (ch, kk) = (p0 + lane, g * geometry.group + i);
                        if ch < n && kk < k {
                            packed[at] = i16::from(weights[ch * k + kk]);
                        }
                        at += 1;
                    }
                }
            }
        }
        debug_assert_eq!(at, packed.len());
        let (bytes, words) = if geometry.words {
            (Vec::new(), packed)
        } else {
            // The values came from i8, so the narrowing is exact.
            (packed.iter().map(|&v| v as i8).collect(), Vec::new())
        };
        Some(Gemm {
            simd,
            geometry,
            k,
            depth,
            n,
            bytes,
            words,
        })
    }

    /// What the kernel adds to every activation before multiplying (128 for the unsigned
    /// dot products, which flip the sign bit of each byte as they load it): the caller
    /// subtracts `offset · Σ w` per output channel in its bias.
    pub(crate) fn offset(&self) -> i32 {
        self.geometry.offset
    }

    /// Computes `rows` rows. `fill(r, row)` writes the `k` int8 values of row `r` (padding
    /// taps as the input zero point); results go to `out`, `n` per row.
    pub(crate) fn run(&self, rows: usize, fill: impl FnMut(usize, &mut [i8]), out: GemmOut<'_>) {
        self.dispatch(rows, fill, None, out);
    }

    /// Computes `rows` rows stored one after another in `input` (`k` values each): the
    /// kernels read them in place when the path needs no widening or depth padding.
    pub(crate) fn run_rows(&self, rows: usize, input: &[i8], out: GemmOut<'_>) {
        let k = self.k;
        assert!(input.len() >= rows * k);
        let direct = (!self.geometry.words && self.depth == k).then_some(input);
        let fill = |r: usize, row: &mut [i8]| row.copy_from_slice(&input[r * k..(r + 1) * k]);
        self.dispatch(rows, fill, direct, out);
    }

    fn dispatch(
        &self,
        rows: usize,
        fill: impl FnMut(usize, &mut [i8]),
        direct: Option<&[i8]>,
        out: GemmOut<'_>,
    ) {
        // The smallest stack buffer that holds a block: it is zeroed on every call.
        let mr = if rows == 1 { 1 } else { self.geometry.mr };
        let need = self.buffer_words(mr);
        if need <= 1024 {
            self.run_in::<1024>(rows, mr, fill, direct, out);
        } else if need <= 4096 {
            self.run_in::<4096>(rows, mr, fill, direct, out);
        } else {
            self.run_in::<A_WORDS>(rows, mr, fill, direct, out);
        }
    }

    fn buffer_words(&self, mr: usize) -> usize {
        self.geometry.buffer_words(self.depth, mr)
    }

    fn run_in<const W: usize>(
        &self,
        rows: usize,
        mr: usize,
        mut fill: impl FnMut(usize, &mut [i8]),
        direct: Option<&[i8]>,
        mut out: GemmOut<'_>,
    ) {
        let (k, depth, n, g) = (self.k, self.depth, self.n, self.geometry);
        assert!(self.buffer_words(mr) <= W);
        if let Some(input) = direct {
            assert!(!g.words && depth == k && input.len() >= rows * k);
        }
        match &out {
            GemmOut::Requant(req, o) => {
                assert!(o.len() >= rows * n && req.channels() >= n);
            }
            GemmOut::Raw(o) => assert!(o.len() >= rows * n),
        }
        let mut buffer = [0i16; W];
        let panel = g.panel();
        for m0 in (0..rows).step_by(mr) {
            let count = mr.min(rows - m0);
            // A whole block of rows stored in place is read there (`depth == k` bytes each).
            let in_place = direct
                .filter(|_| count == mr)
                .map(|input| input[m0 * k..].as_ptr());
            if in_place.is_some() {
                // Nothing to gather.
            } else if g.words {
                let (a, stage) = buffer.split_at_mut(mr * depth);
                let stage = &mut bytemuck::cast_slice_mut::<i16, i8>(stage)[..k];
                for r in 0..count {
                    fill(m0 + r, stage);
                    for (d, &s) in a[r * depth..r * depth + k].iter_mut().zip(stage.iter()) {
                        *d = i16::from(s);
                    }
                }
            } else {
                let a = &mut bytemuck::cast_slice_mut::<i16, i8>(&mut buffer)[..mr * depth];
                for r in 0..count {
                    fill(m0 + r, &mut a[r * depth..r * depth + k]);
                }
            }
            // Rows past `count` hold stale values; their results are computed and dropped.
            for p0 in (0..n).step_by(panel) {
                let width = (n - p0).min(panel);
                let nr = width.div_ceil(g.lanes);
                let a = match in_place {
                    Some(rows) => rows.cast::<u8>(),
                    None => buffer.as_ptr().cast::<u8>(),
                };
                let w = if g.words {
                    self.words[p0 * depth..(p0 + nr * g.lanes) * depth]
                        .as_ptr()
                        .cast::<u8>()
                } else {
                    self.bytes[p0 * depth..(p0 + nr * g.lanes) * depth]
                        .as_ptr()
                        .cast::<u8>()
                };
                let (out_ptr, requant) = match &mut out {
                    GemmOut::Requant(req, o) => {
                        (o[m0 * n + p0..].as_mut_ptr().cast::<u8>(), Some(req.at(p0)))
                    }
                    GemmOut::Raw(o) => (o[m0 * n + p0..].as_mut_ptr().cast::<u8>(), None),
                };
                let block = Block {
                    a,
                    a_stride: depth,
                    w,
                    steps: depth / g.group,
                    rows: count,
                    width,
                    out: out_ptr,
                    out_stride: n,
                    requant,
                };
                // SAFETY: `self.simd` proves the path's instructions exist. Extents: `a`
                // holds `mr` rows of `depth` elements (the buffer: asserted above; in place:
                // rows `m0..m0 + mr` of `input`, which holds `rows · k`, `k == depth`);
                // `w` is this panel's `nr·lanes·depth` elements (sliced above); the output
                // rows `m0..m0 + count` and channels `p0..p0 + width` are inside `out`
                // (asserted at the top: `rows · n` elements); the requant arrays are padded
                // to a multiple of MAX_PANEL ≥ p0 + nr·lanes (asserted `channels ≥ n`).
                unsafe { self.block(mr, nr, &block) };
            }
        }
    }

    /// One block: `mr` rows (a kernel size) times one panel of `nr` vectors.
    ///
    /// # Safety
    /// `block` must satisfy the extents [`Gemm::run`] checks.
    #[cfg_attr(
        not(any(target_arch = "x86_64", target_arch = "aarch64")),
        allow(unused_variables, unused_unsafe)
    )]
    unsafe fn block(&self, mr: usize, nr: usize, block: &Block) {
        match self.simd.isa() {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512Vnni => unsafe { x86::gemm_avx512vnni(mr, nr, block) },
            #[cfg(target_arch = "x86_64")]
            Isa::AvxVnni => unsafe { x86::gemm_avxvnni(mr, nr, block) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { x86::gemm_avx2(mr, nr, block) },
            #[cfg(target_arch = "aarch64")]
            Isa::NeonDot => unsafe { neon::gemm_dot(mr, nr, block) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => unsafe { neon::gemm(mr, nr, block) },
            // A `Gemm` is never built for the portable path, nor for another architecture's.
            _ => unreachable!("no SIMD path {:?}", self.simd.isa()),
        }
    }
}

/// One call of a matrix-product microkernel.
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
struct Block {
    /// Row 0 of the activations, `a_stride` elements (bytes or i16) between rows.
    a: *const u8,
    a_stride: usize,
    /// The panel of weights.
    w: *const u8,
    /// Depth steps (`depth / group`).
    steps: usize,
    /// Rows to store (the kernel computes its full row count).
    rows: usize,
    /// Channels to store (the panel is computed in whole vectors).
    width: usize,
    /// Row 0, channel 0 of the output (int8 with `requant`, i32 without).
    out: *mut u8,
    out_stride: usize,
    requant: Option<RequantPtrs>,
}

/// Most filter taps the SIMD depthwise path gathers per pixel.
pub(crate) const DW_MAX_TAPS: usize = 64;

/// DEPTHWISE_CONV_2D weights (depth multiplier 1) packed for one path: per block of lanes,
/// per pair of taps, the two taps' weights of each channel side by side as i16
/// (`vpmaddwd`/`vpdpwssd` order), a zero weight for the phantom tap of an odd count.
#[derive(Debug, Clone)]
pub(crate) struct Depthwise {
    simd: Simd,
    channels: usize,
    taps: usize,
    words: Vec<i16>,
}

impl Depthwise {
    /// Packs `filter` (`[taps][channels]`, TFLite's `[1, fh, fw, channels]`). `None` for
    /// the portable path or more than [`DW_MAX_TAPS`] taps.
    pub(crate) fn new(simd: Simd, filter: &[i8], taps: usize, channels: usize) -> Option<Self> {
        let lanes = match simd.isa() {
            Isa::Avx512Vnni => 16,
            Isa::AvxVnni | Isa::Avx2 => 8,
            Isa::NeonDot | Isa::Neon => 8,
            Isa::Portable => return None,
        };
        if taps == 0 || taps > DW_MAX_TAPS || channels == 0 || filter.len() != taps * channels {
            return None;
        }
        let pairs = taps.div_ceil(2);
        let blocks = channels.div_ceil(lanes);
        let mut words = vec![0i16; blocks * pairs * lanes * 2];
        let mut at = 0;
        for b in 0..blocks {
            for p in 0..pairs {
                for lane in 0..lanes {
                    for t in [2 * p, 2 * p + 1] {
                        let c = b * lanes + lane;
                        if c < channels && t < taps {
                            words[at] = i16::from(filter[t * channels + c]);
                        }
                        at += 1;
                    }
                }
            }
        }
        Some(Depthwise {
            simd,
            channels,
            taps,
            words,
        })
    }

    /// A run of `count` output pixels: `taps[t]` is the input under tap `t` of the first
    /// pixel (the input zero point for taps in the padding), and each next pixel's tap is
    /// `stride` values further; each slice must hold `(count − 1) · stride + channels` values.
    /// `out` receives `count` pixels of `channels` results.
    #[cfg_attr(
        not(any(target_arch = "x86_64", target_arch = "aarch64")),
        allow(unused_variables, unused_unsafe)
    )]
    pub(crate) fn run(
        &self,
        taps: &[&[i8]],
        stride: usize,
        count: usize,
        requant: &Requant,
        out: &mut [i8],
    ) {
        if count == 0 {
            return;
        }
        let reach = (count - 1) * stride + self.channels;
        assert!(taps.len() == self.taps && out.len() >= count * self.channels);
        assert!(requant.channels() >= self.channels);
        let mut ptrs = [core::ptr::null::<i8>(); DW_MAX_TAPS + 1];
        for (p, tap) in ptrs.iter_mut().zip(taps) {
            assert!(tap.len() >= reach);
            *p = tap.as_ptr();
        }
        // The phantom tap of an odd count has weight 0; any readable input will do.
        ptrs[self.taps] = taps[0].as_ptr();
        let call = DwCall {
            taps: ptrs.as_ptr(),
            pairs: self.taps.div_ceil(2),
            channels: self.channels,
            count,
            stride,
            weights: self.words.as_ptr(),
            requant: requant.at(0),
            out: out.as_mut_ptr(),
        };
        // SAFETY: `self.simd` proves the instructions exist. Every tap pointer (the phantom
        // included) reads `channels` values at `stride · px` for `px < count`, inside a slice
        // checked to reach that far; the kernels load partial vectors for the channel tail
        // without reading past `channels`. The weights hold `blocks · pairs · lanes · 2`
        // values as packed in `new`; the requant arrays are padded past `channels`
        // (asserted); `out` holds `count · channels` values (asserted).
        unsafe {
            match self.simd.isa() {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512Vnni => x86::depthwise_avx512(&call),
                #[cfg(target_arch = "x86_64")]
                Isa::AvxVnni | Isa::Avx2 => x86::depthwise_avx2(&call),
                #[cfg(target_arch = "aarch64")]
                Isa::NeonDot | Isa::Neon => neon::depthwise(&call),
                _ => unreachable!("no SIMD path {:?}", self.simd.isa()),
            }
        }
    }
}

/// A run of output pixels for a depthwise microkernel.
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
struct DwCall {
    /// `pairs · 2` tap pointers for the first pixel (the last one a phantom for an odd
    /// count).
    taps: *const *const i8,
    pairs: usize,
    channels: usize,
    /// Pixels, and input values between consecutive pixels' taps.
    count: usize,
    stride: usize,
    weights: *const i16,
    requant: RequantPtrs,
    out: *mut i8,
}

/// TFLite's quantized ADD/SUB arithmetic for one element (`reference_integer_ops::Add`), in
/// the terms the vector code takes: each input `(q − zero_point) << 20` times its multiplier
/// below one, the two summed (or subtracted), the sum times the output multiplier, plus the
/// output zero point, clamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AddTerms {
    pub(crate) a_zero_point: i32,
    pub(crate) a_multiplier: i32,
    /// Right shift of the first input's multiplier (its shift negated, 0..=31).
    pub(crate) a_right: i32,
    pub(crate) b_zero_point: i32,
    pub(crate) b_multiplier: i32,
    pub(crate) b_right: i32,
    /// SUB: the second input is subtracted.
    pub(crate) subtract: bool,
    pub(crate) out_multiplier: i32,
    pub(crate) out_right: i32,
    pub(crate) out_zero_point: i32,
    pub(crate) lo: i32,
    pub(crate) hi: i32,
}

/// Element-wise int8 ADD/SUB of two tensors of the same shape on a SIMD path.
#[derive(Debug, Clone)]
pub(crate) struct AddI8 {
    simd: Simd,
    terms: AddTerms,
}

impl AddI8 {
    /// `None` for the portable path or terms outside what TFLite's prepare allows (shifts
    /// outside 0..=31, a clamp outside int8).
    pub(crate) fn new(simd: Simd, terms: AddTerms) -> Option<Self> {
        let shifts_ok = [terms.a_right, terms.b_right, terms.out_right]
            .iter()
            .all(|r| (0..=31).contains(r));
        let clamp_ok = -128 <= terms.lo && terms.hi <= 127;
        (simd.isa() != Isa::Portable && shifts_ok && clamp_ok).then_some(AddI8 { simd, terms })
    }

    /// `out[i] = a[i] ± b[i]`, requantized.
    #[cfg_attr(
        not(any(target_arch = "x86_64", target_arch = "aarch64")),
        allow(unused_variables, unused_unsafe)
    )]
    pub(crate) fn run(&self, a: &[i8], b: &[i8], out: &mut [i8]) {
        let len = out.len();
        assert!(a.len() == len && b.len() == len);
        let call = AddCall {
            a: a.as_ptr(),
            b: b.as_ptr(),
            out: out.as_mut_ptr(),
            len,
            terms: self.terms,
        };
        // SAFETY: `self.simd` proves the instructions exist; the three pointers are valid for
        // `len` elements (asserted), and the kernels read and write no further.
        unsafe {
            match self.simd.isa() {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512Vnni => x86::add_avx512(&call),
                #[cfg(target_arch = "x86_64")]
                Isa::AvxVnni | Isa::Avx2 => x86::add_avx2(&call),
                #[cfg(target_arch = "aarch64")]
                Isa::NeonDot | Isa::Neon => neon::add(&call),
                _ => unreachable!("no SIMD path {:?}", self.simd.isa()),
            }
        }
    }
}

/// One element-wise ADD/SUB: `len` values at each pointer.
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
struct AddCall {
    a: *const i8,
    b: *const i8,
    out: *mut i8,
    len: usize,
    terms: AddTerms,
}

/// Output lanes of the float kernels' blocks.
pub(crate) const F32_LANES: usize = 16;

/// A float matrix of `n` rows of `k`, stored for lane-parallel products: blocks of 16 rows,
/// each `[k][16]` (rows past `n` zero). Every lane keeps its own running sum in the order of
/// `k`, exactly as a scalar loop over one row does, so the results are the same bits; the 16
/// lanes are what the compiler vectorizes (and, on a SIMD path, with the widest vectors this
/// CPU has — multiplies and adds stay separate, never fused).
#[derive(Debug, Clone)]
pub(crate) struct PackedF32 {
    simd: Simd,
    n: usize,
    k: usize,
    data: Vec<f32>,
}

impl PackedF32 {
    /// Packs `w` (`n` rows of `k`). `None` on the portable path, where the copy would only
    /// cost memory (a microcontroller reads the weights in place from flash).
    pub(crate) fn new(simd: Simd, w: &[f32], n: usize, k: usize) -> Option<Self> {
        if simd.isa() == Isa::Portable || w.len() != n * k || n == 0 {
            return None;
        }
        let blocks = n.div_ceil(F32_LANES);
        let mut data = vec![0.0f32; blocks * k * F32_LANES];
        for (j, row) in w.chunks_exact(k.max(1)).enumerate().take(n) {
            let (block, lane) = (j / F32_LANES, j % F32_LANES);
            for (kk, &v) in row.iter().enumerate() {
                data[(block * k + kk) * F32_LANES + lane] = v;
            }
        }
        Some(PackedF32 { simd, n, k, data })
    }

    /// `acc[l] += w[16·block + l][k0 + i] · x[i]` for `i` in order: one segment of the dot
    /// products of block `block` (lanes past `n` get zeros).
    pub(crate) fn accumulate(
        &self,
        block: usize,
        acc: &mut [f32; F32_LANES],
        k0: usize,
        x: &[f32],
    ) {
        let at = (block * self.k + k0) * F32_LANES;
        let w = &self.data[at..at + x.len() * F32_LANES];
        self.simd.accumulate_f32(acc, w, x);
    }

    /// `y[j] = Σ_k w[j][k] · x[k]`, each sum from +0.0 in the order of `k`.
    pub(crate) fn matvec(&self, x: &[f32], y: &mut [f32]) {
        assert!(x.len() == self.k && y.len() >= self.n);
        for (block, y) in y[..self.n].chunks_mut(F32_LANES).enumerate() {
            let mut acc = [0.0f32; F32_LANES];
            self.accumulate(block, &mut acc, 0, x);
            y.copy_from_slice(&acc[..y.len()]);
        }
    }
}

/// The lane-parallel multiply-accumulate of [`PackedF32`], written once; the SIMD paths
/// compile it with their vector width.
#[inline(always)]
fn accumulate_f32_lanes(acc: &mut [f32; F32_LANES], w: &[f32], x: &[f32]) {
    for (row, &v) in w.chunks_exact(F32_LANES).zip(x) {
        for (a, &w) in acc.iter_mut().zip(row) {
            *a += w * v;
        }
    }
}

impl Simd {
    /// [`accumulate_f32_lanes`] compiled for this path.
    #[cfg_attr(
        not(any(target_arch = "x86_64", target_arch = "aarch64")),
        allow(unused_unsafe)
    )]
    fn accumulate_f32(self, acc: &mut [f32; F32_LANES], w: &[f32], x: &[f32]) {
        match self.isa() {
            // SAFETY: `self` proves the CPU has the features the function is compiled with;
            // it is the safe portable code otherwise.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512Vnni => unsafe { x86::accumulate_f32_avx512(acc, w, x) },
            #[cfg(target_arch = "x86_64")]
            Isa::AvxVnni | Isa::Avx2 => unsafe { x86::accumulate_f32_avx2(acc, w, x) },
            _ => accumulate_f32_lanes(acc, w, x),
        }
    }
}
