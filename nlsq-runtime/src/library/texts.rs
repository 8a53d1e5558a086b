//! The texts of the library: how each estimator works and the documented range in which it
//! leads fits to the truth (measured by `examples/library_p0.rs`, tested by
//! `nlsq-runtime/tests/library_p0.rs`, 200 points at uniform random x). "span" is the x
//! range of the data, n the number of points; noise is Gaussian.

pub(crate) const PEAK_P0: &str = "height and position of the extreme of the smoothed data (zero baseline), half width at half maximum from the half-maximum crossings (one side suffices), centre from the centroid above half maximum";
pub(crate) const PSEUDO_VOIGT_P0: &str = "as for gaussian (sigma = the half width at half maximum), then eta by linear least squares with the other parameters held, clamped to [0, 1]";
pub(crate) const EXP_P0: &str = "integral-equation regression (Jacquelin): y on 1, x and the running integral of y gives the rate; amplitude and offset by linear least squares";
pub(crate) const EXP2_P0: &str = "double integral-equation regression (Jacquelin): y on 1, x, x², ∫y, ∫∫y; the two rates are the roots of a quadratic; amplitudes and offset by linear least squares";
pub(crate) const STEP_P0: &str = "asymptotes from the medians of the first and last 10 % of the points, centre and 10-90 % width from the level positions of the smoothed, normalised data";
pub(crate) const POWER_P0: &str =
    "log-log regression over the points of the dominant sign, weighted by y²";
pub(crate) const LINEAR_P0: &str = "exact linear least squares";
pub(crate) const SINE_P0: &str = "frequency from the maximum of a periodogram (uneven x allowed), decay from the amplitudes of one-period windows, amplitude, phase and offset by linear least squares";
pub(crate) const MM_P0: &str =
    "linearisation x·y = vmax·x − km·y by least squares, reweighted once by 1/(km + x)";
pub(crate) const HILL_P0: &str = "logit-log regression for trial vmax from 1.02 to 4 times the largest smoothed y; the trial with the smallest sum of squares wins";
pub(crate) const GAUSS2D_P0: &str = "offset from the median, centre and widths from the weighted first and second moments of the points above half maximum, amplitude and offset by linear least squares";

pub(crate) const GAUSSIAN_RANGE: &str = "mu in the middle 80 % of the data, sigma from 2.1 span/n (5 points per FWHM) to span/6, amp of either sign and any scale, noise up to 3 % of |amp|";
pub(crate) const LORENTZIAN_RANGE: &str = "mu in the middle 80 % of the data, gamma from 2.5 span/n (5 points per FWHM) to span/12, amp of either sign and any scale, noise up to 3 % of |amp|";
pub(crate) const PSEUDO_VOIGT_RANGE: &str = "mu in the middle 80 % of the data, sigma from 2.5 span/n (5 points per FWHM) to span/12, eta in [0, 1], amp of either sign and any scale, noise up to 3 % of |amp|";
pub(crate) const EXP_DECAY_RANGE: &str = "tau from span/20 to 2 span, |offset| ≤ |amp| at the first x, noise up to 3 % of |amp| at the first x";
pub(crate) const EXP_GROWTH_RANGE: &str = "tau from span/20 to 2 span, |offset| ≤ |amp| at the last x, noise up to 3 % of |amp| at the last x";
pub(crate) const EXP_DECAY2_RANGE: &str = "tau1 from span/30 to span/8, tau2/tau1 from 4 to 10, amplitudes of one sign with ratio 1/3 to 3, |offset| ≤ |amp1|/2, noise up to 0.5 % of |amp1 + amp2|";
pub(crate) const STEP_RANGE: &str = "center in the middle 60 % of the data, the 10-90 % rise over 2 % to 25 % of the data, amp of either sign and any scale, |offset| ≤ |amp|, noise up to 3 % of |amp|";
pub(crate) const LOGISTIC_RANGE: &str = STEP_RANGE;
pub(crate) const POWER_RANGE: &str = "x > 0 with max x / min x from 3 to 100, exponent from -3 to 3, amp of either sign, noise up to 3 % of max |y|";
pub(crate) const LINEAR_RANGE: &str = "any";
pub(crate) const SINE_RANGE: &str = "1.5 to n/10 periods over the data, decay · span from 0 to 2, any phase, |offset| ≤ the amplitude at the first x, noise up to 3 % of it";
pub(crate) const MM_RANGE: &str =
    "x ≥ 0 from 0 to X, km from X/30 to X, vmax of either sign, noise up to 3 % of |vmax|";
pub(crate) const HILL_RANGE: &str =
    "x ≥ 0 from 0 to X, k from X/10 to X/2, n from 0.5 to 4, vmax > 0, noise up to 3 % of vmax";
pub(crate) const GAUSS2D_RANGE: &str = "points spread uniformly (grid or random) over a rectangle, centre in its middle 60 %, sides in a ratio up to 2, sigma_x, sigma_y from 1/12 to 1/5 of the sides, |offset| ≤ |amp|, noise up to 3 % of |amp|";
