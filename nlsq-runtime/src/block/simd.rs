//! The run-time choice of vector instructions for block evaluation and CPU passes.

/// Which vector instructions the CPU passes use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Simd {
    /// The widest the processor has: AVX-512, else AVX2, else the baseline.
    #[default]
    Auto,
    /// AVX-512F (falls back to [`Simd::Auto`]'s choice when the processor lacks it).
    Avx512,
    /// AVX2 (falls back to the baseline when the processor lacks it).
    Avx2,
    /// The target's baseline instructions only (SSE2 on x86-64).
    Baseline,
}

impl Simd {
    /// The instruction set passes will actually use on this processor.
    pub fn resolve(self) -> Simd {
        #[cfg(target_arch = "x86_64")]
        {
            let avx512 = std::arch::is_x86_feature_detected!("avx512f");
            let avx2 = std::arch::is_x86_feature_detected!("avx2");
            match self {
                Simd::Auto | Simd::Avx512 if avx512 => Simd::Avx512,
                Simd::Auto | Simd::Avx512 | Simd::Avx2 if avx2 => Simd::Avx2,
                _ => Simd::Baseline,
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = self;
            Simd::Baseline
        }
    }
}
