// nlsq: the error functions erf and erfc for WGSL, one text for f32 and f64 (`real`).
//
// Added to a module only when its model calls erf or erfc (so the modules, and hashes, of
// other models are unchanged). WGSL has no erf builtin. Needs, from the rest of the module:
// nlsq_isnan, and, from the precision's own part written by kernels::wgsl,
// nlsq_h_erf_split (x with its low significand bits cleared, so that split * split is
// exact), nlsq_h_erf_exp (the software f64 exp of wgsl_math_f64.wgsl; in f32 the builtin
// after an argument reduction) and NLSQ_ERF_TAIL (where the second tail approximation
// starts, ~1/0.35).
//
// ALGORITHM: Sun's fdlibm s_erf.c (as in FreeBSD and musl, and the libm crate the CPU
// uses), with its published minimax coefficients (the f32 module rounds the same constants
// to f32, as fdlibm's s_erff.c does). erf:
//   |x| < 2^-28:          x + x*(2/sqrt(pi) - 1), as 0.125*(8x + 8x(2/sqrt(pi) - 1))
//   |x| < 0.84375:        x + x*P(x^2)/Q(x^2)
//   0.84375 <= |x| < 1.25: erx + P(s)/Q(s), s = |x| - 1, erx = erf(1) rounded to 24 bits
//   1.25 <= |x| < 6:      1 - exp(-z^2 - 0.5625) * exp((z - x)(z + x) + R(1/x^2)/S(1/x^2)) / x,
//                          z = x split to a few leading bits: exp(-x^2) = exp(-z^2) exp((z-x)(z+x))
//                          with -z^2 - 0.5625 exact, so no error is magnified by exp
//   |x| >= 6 (and inf):   1 (erf(6) = 1 - 2e-17 rounds to 1 in f64)
// with the sign of x (erf is odd; -0 stays -0), NaN stays NaN. erfc, from the same pieces,
// never as 1 - erf where that cancels:
//   |x| < 2^-56:          1 - x
//   |x| < 0.84375:        1 - (x + x*P/Q) for x < 1/4, else 0.5 - (x - 0.5 + x*P/Q)
//   0.84375 <= |x| < 1.25: (1 - erx) - P(s)/Q(s) for x > 0, 2 - that for x < 0
//   1.25 <= |x| < 28:     the exp(...)/x term of erf's tail (erfc itself) for x > 0,
//                          2 - it for x < 0 (subnormal results near 27 in f64 need a driver
//                          that keeps f64 denormals; the f32 results are 0 past ~10)
//   |x| >= 28:            0 for x > 0, 2 for x < 0
//
// The split: fdlibm clears the low 32 bits of the f64 (SET_LOW_WORD); here f64(f32(x))
// keeps 24 bits (squares exact in 48 bits), and f32 clears its low 13 bits as s_erff.c does.
// MEASURED ACCURACY (tests/fit_wgpu.rs, erf_on_the_device_is_accurate; naga 30 -> SPIR-V
// -> Mesa lavapipe), worst distance from the CPU's libm::erf / libm::erfc (themselves within
// 1 / 2 ulp of the correctly rounded values) over 40 000 points in [-7, 7], the pieces'
// boundaries and tiny arguments, erfc also over [7, 27] (normal results):
//   f64: erf 1 ulp, erfc 4 ulp;  f32 (against the f64 value rounded to f32): erf 1, erfc 7.

const NLSQ_ERF_ERX: real = 8.45062911510467529297e-01;
const NLSQ_ERF_EFX8: real = 1.02703333676410069053e+00;
const NLSQ_ERF_PP0: real = 1.28379167095512558561e-01;
const NLSQ_ERF_PP1: real = -3.25042107247001499370e-01;
const NLSQ_ERF_PP2: real = -2.84817495755985104766e-02;
const NLSQ_ERF_PP3: real = -5.77027029648944159157e-03;
const NLSQ_ERF_PP4: real = -2.37630166566501626084e-05;
const NLSQ_ERF_QQ1: real = 3.97917223959155352819e-01;
const NLSQ_ERF_QQ2: real = 6.50222499887672944485e-02;
const NLSQ_ERF_QQ3: real = 5.08130628187576562776e-03;
const NLSQ_ERF_QQ4: real = 1.32494738004321644526e-04;
const NLSQ_ERF_QQ5: real = -3.96022827877536812320e-06;
const NLSQ_ERF_PA0: real = -2.36211856075265944077e-03;
const NLSQ_ERF_PA1: real = 4.14856118683748331666e-01;
const NLSQ_ERF_PA2: real = -3.72207876035701323847e-01;
const NLSQ_ERF_PA3: real = 3.18346619901161753674e-01;
const NLSQ_ERF_PA4: real = -1.10894694282396677476e-01;
const NLSQ_ERF_PA5: real = 3.54783043256182359371e-02;
const NLSQ_ERF_PA6: real = -2.16637559486879084300e-03;
const NLSQ_ERF_QA1: real = 1.06420880400844228286e-01;
const NLSQ_ERF_QA2: real = 5.40397917702171048937e-01;
const NLSQ_ERF_QA3: real = 7.18286544141962662868e-02;
const NLSQ_ERF_QA4: real = 1.26171219808761642112e-01;
const NLSQ_ERF_QA5: real = 1.36370839120290507362e-02;
const NLSQ_ERF_QA6: real = 1.19844998467991074170e-02;
const NLSQ_ERF_RA0: real = -9.86494403484714822705e-03;
const NLSQ_ERF_RA1: real = -6.93858572707181764372e-01;
const NLSQ_ERF_RA2: real = -1.05586262253232909814e+01;
const NLSQ_ERF_RA3: real = -6.23753324503260060396e+01;
const NLSQ_ERF_RA4: real = -1.62396669462573470355e+02;
const NLSQ_ERF_RA5: real = -1.84605092906711035994e+02;
const NLSQ_ERF_RA6: real = -8.12874355063065934246e+01;
const NLSQ_ERF_RA7: real = -9.81432934416914548592e+00;
const NLSQ_ERF_SA1: real = 1.96512716674392571292e+01;
const NLSQ_ERF_SA2: real = 1.37657754143519042600e+02;
const NLSQ_ERF_SA3: real = 4.34565877475229228821e+02;
const NLSQ_ERF_SA4: real = 6.45387271733267880336e+02;
const NLSQ_ERF_SA5: real = 4.29008140027567833386e+02;
const NLSQ_ERF_SA6: real = 1.08635005541779435134e+02;
const NLSQ_ERF_SA7: real = 6.57024977031928170135e+00;
const NLSQ_ERF_SA8: real = -6.04244152148580987438e-02;
const NLSQ_ERF_RB0: real = -9.86494292470009928597e-03;
const NLSQ_ERF_RB1: real = -7.99283237680523006574e-01;
const NLSQ_ERF_RB2: real = -1.77579549177547519889e+01;
const NLSQ_ERF_RB3: real = -1.60636384855821916062e+02;
const NLSQ_ERF_RB4: real = -6.37566443368389627722e+02;
const NLSQ_ERF_RB5: real = -1.02509513161107724954e+03;
const NLSQ_ERF_RB6: real = -4.83519191608651397019e+02;
const NLSQ_ERF_SB1: real = 3.03380607434824582924e+01;
const NLSQ_ERF_SB2: real = 3.25792512996573918826e+02;
const NLSQ_ERF_SB3: real = 1.53672958608443695994e+03;
const NLSQ_ERF_SB4: real = 3.19985821950859553908e+03;
const NLSQ_ERF_SB5: real = 2.55305040643316442583e+03;
const NLSQ_ERF_SB6: real = 4.74528541206955367215e+02;
const NLSQ_ERF_SB7: real = -2.24409524465858183362e+01;

// x + x * this is erf(x) for |x| < 0.84375 (P/Q of x^2).
fn nlsq_h_erf_small(z: real) -> real {
    let r = NLSQ_ERF_PP0 + z * (NLSQ_ERF_PP1 + z * (NLSQ_ERF_PP2 + z * (NLSQ_ERF_PP3
        + z * NLSQ_ERF_PP4)));
    let s = real(1.0) + z * (NLSQ_ERF_QQ1 + z * (NLSQ_ERF_QQ2 + z * (NLSQ_ERF_QQ3
        + z * (NLSQ_ERF_QQ4 + z * NLSQ_ERF_QQ5))));
    return r / s;
}

// erf(1 + s) - erx for 0.84375 <= 1 + s < 1.25.
fn nlsq_h_erf_mid(s: real) -> real {
    let p = NLSQ_ERF_PA0 + s * (NLSQ_ERF_PA1 + s * (NLSQ_ERF_PA2 + s * (NLSQ_ERF_PA3
        + s * (NLSQ_ERF_PA4 + s * (NLSQ_ERF_PA5 + s * NLSQ_ERF_PA6)))));
    let q = real(1.0) + s * (NLSQ_ERF_QA1 + s * (NLSQ_ERF_QA2 + s * (NLSQ_ERF_QA3
        + s * (NLSQ_ERF_QA4 + s * (NLSQ_ERF_QA5 + s * NLSQ_ERF_QA6)))));
    return p / q;
}

// erfc(ax) for 1.25 <= ax < 28.
fn nlsq_h_erfc_tail(ax: real) -> real {
    let s = real(1.0) / (ax * ax);
    var r: real;
    var big_s: real;
    if (ax < NLSQ_ERF_TAIL) {
        r = NLSQ_ERF_RA0 + s * (NLSQ_ERF_RA1 + s * (NLSQ_ERF_RA2 + s * (NLSQ_ERF_RA3
            + s * (NLSQ_ERF_RA4 + s * (NLSQ_ERF_RA5 + s * (NLSQ_ERF_RA6
            + s * NLSQ_ERF_RA7))))));
        big_s = real(1.0) + s * (NLSQ_ERF_SA1 + s * (NLSQ_ERF_SA2 + s * (NLSQ_ERF_SA3
            + s * (NLSQ_ERF_SA4 + s * (NLSQ_ERF_SA5 + s * (NLSQ_ERF_SA6
            + s * (NLSQ_ERF_SA7 + s * NLSQ_ERF_SA8)))))));
    } else {
        r = NLSQ_ERF_RB0 + s * (NLSQ_ERF_RB1 + s * (NLSQ_ERF_RB2 + s * (NLSQ_ERF_RB3
            + s * (NLSQ_ERF_RB4 + s * (NLSQ_ERF_RB5 + s * NLSQ_ERF_RB6)))));
        big_s = real(1.0) + s * (NLSQ_ERF_SB1 + s * (NLSQ_ERF_SB2 + s * (NLSQ_ERF_SB3
            + s * (NLSQ_ERF_SB4 + s * (NLSQ_ERF_SB5 + s * (NLSQ_ERF_SB6
            + s * NLSQ_ERF_SB7))))));
    }
    let z = nlsq_h_erf_split(ax);
    let e = nlsq_h_erf_exp(-z * z - real(0.5625)) * nlsq_h_erf_exp((z - ax) * (z + ax) + r / big_s);
    return e / ax;
}

fn nlsq_erf(x: real) -> real {
    if (nlsq_isnan(x)) {
        return x;
    }
    let ax = abs(x);
    if (ax < real(0.84375)) {
        if (ax < real(3.725290298461914e-09)) {                     // 2^-28
            return real(0.125) * (real(8.0) * x + NLSQ_ERF_EFX8 * x);
        }
        return x + x * nlsq_h_erf_small(x * x);
    }
    var y: real;
    if (ax < real(1.25)) {
        y = NLSQ_ERF_ERX + nlsq_h_erf_mid(ax - real(1.0));
    } else if (ax < real(6.0)) {
        y = real(1.0) - nlsq_h_erfc_tail(ax);
    } else {
        y = real(1.0);
    }
    return select(y, -y, x < real(0.0));
}

fn nlsq_erfc(x: real) -> real {
    if (nlsq_isnan(x)) {
        return x;
    }
    let ax = abs(x);
    if (ax < real(0.84375)) {
        if (ax < real(1.3877787807814457e-17)) {                    // 2^-56
            return real(1.0) - x;
        }
        let y = nlsq_h_erf_small(x * x);
        if (x < real(0.25)) {
            return real(1.0) - (x + x * y);
        }
        return real(0.5) - (x - real(0.5) + x * y);
    }
    var r: real;
    if (ax < real(1.25)) {
        r = (real(1.0) - NLSQ_ERF_ERX) - nlsq_h_erf_mid(ax - real(1.0));
    } else if (ax < real(28.0)) {
        r = nlsq_h_erfc_tail(ax);
    } else {
        r = real(0.0);
    }
    return select(r, real(2.0) - r, x < real(0.0));
}
