//! Levenberg–Marquardt's step (MINPACK's `lmpar`) on the normal equations, at `N` parameters:
//! fixed sizes (on the stack, loops of known length) up to [`FIXED_MAX`] parameters, dynamic
//! beyond. The arithmetic is the same at every size; only where the numbers live differs.
//! See [`super::lm`] for the method.

use nalgebra::allocator::Allocator;
use nalgebra::{
    Cholesky, DMatrix, DVector, DefaultAllocator, Dim, Dyn, OMatrix, OVector, SymmetricEigen, U1,
};

/// At most this many parameters are served by fixed-size matrices.
pub(super) const FIXED_MAX: usize = 8;

/// At most this many solves per `lmpar` call (MINPACK's limit).
const LMPAR_MAX_ITER: usize = 10;

/// The trust-region system in the scaled variables `s = D p`: `Ã = D⁻¹ JᵀJ D⁻¹`, `g̃ = D⁻¹ g`.
pub(super) struct ScaledSystem<N: Dim>
where
    DefaultAllocator: Allocator<N, N> + Allocator<N>,
{
    pub(super) a: OMatrix<f64, N, N>,
    pub(super) g: OVector<f64, N>,
}

/// The Gauss–Newton step, `Ã s = -g̃`.
enum GaussNewton<N: Dim>
where
    DefaultAllocator: Allocator<N>,
{
    /// `Ã` is numerically nonsingular on the columns of `J` that are not zero: the step (zero
    /// for zero columns, whose gradient is zero too), and `zᵀ Ã⁻¹ z` for `z = s / ‖s‖` when no
    /// column is zero (MINPACK's full-rank case, where it gives a lower bound for λ).
    Step {
        s: OVector<f64, N>,
        inv_quad: Option<f64>,
    },
    /// `Ã` is numerically singular on columns that are not zero. MINPACK's QR then has a
    /// negligible pivot and a Gauss–Newton step far outside any trust region; here the step is
    /// not formed at all and `lmpar` goes straight to λ > 0.
    Singular,
}

/// The solution of `(Ã + λ I) s = -g̃` for λ > 0.
struct Shifted<N: Dim>
where
    DefaultAllocator: Allocator<N>,
{
    s: OVector<f64, N>,
    /// `zᵀ (Ã + λ I)⁻¹ z` for `z = s / ‖s‖`: minus the derivative of `‖s(λ)‖` divided by
    /// `‖s‖`, which drives `lmpar`'s Newton iteration.
    inv_quad: f64,
}

impl<N: Dim> ScaledSystem<N>
where
    DefaultAllocator: Allocator<N, N> + Allocator<N>,
{
    /// The system of `JᵀJ` (its upper triangle) and the gradient, scaled by `diag`.
    pub(super) fn new(jtj: &DMatrix<f64>, gradient: &DVector<f64>, diag: &OVector<f64, N>) -> Self {
        let (d, _) = diag.shape_generic();
        // Symmetric by construction: the upper triangle of JᵀJ, mirrored.
        let a = OMatrix::from_fn_generic(d, d, |i, j| {
            let (r, c) = if i <= j { (i, j) } else { (j, i) };
            jtj[(r, c)] / (diag[r] * diag[c])
        });
        let g = OVector::from_fn_generic(d, U1, |i, _| gradient[i] / diag[i]);
        ScaledSystem { a, g }
    }

    /// The Gauss–Newton step by Cholesky on the nonzero columns; [`GaussNewton::Singular`]
    /// when that fails or a pivot is below `P ε` of the largest diagonal entry (in the squared
    /// scale of `JᵀJ`, i.e. `J` singular to about `sqrt(P ε)`).
    fn gauss_newton(&self) -> GaussNewton<N> {
        let n = self.g.len();
        if (0..n).any(|j| self.a[(j, j)] <= 0.0) {
            return self.gauss_newton_on_nonzero_columns();
        }
        let Some((s, chol)) = newton_solve(self.a.clone(), &self.g, n) else {
            return GaussNewton::Singular;
        };
        let snorm = s.norm();
        let inv_quad = if snorm > 0.0 {
            chol.l_dirty()
                .solve_lower_triangular(&(&s / snorm))
                .map(|w| w.norm_squared())
        } else {
            None
        };
        GaussNewton::Step { s, inv_quad }
    }

    /// [`Self::gauss_newton`] when some columns of `J` are zero: the system of the others,
    /// copied by index, and a zero step for those.
    fn gauss_newton_on_nonzero_columns(&self) -> GaussNewton<N> {
        let n = self.g.len();
        let active: Vec<usize> = (0..n).filter(|&j| self.a[(j, j)] > 0.0).collect();
        let mut s = OVector::zeros_generic(self.g.shape_generic().0, U1);
        if active.is_empty() {
            return GaussNewton::Step { s, inv_quad: None };
        }
        let m = DMatrix::from_fn(active.len(), active.len(), |i, j| {
            self.a[(active[i], active[j])]
        });
        let g = DVector::from_fn(active.len(), |i, _| self.g[active[i]]);
        let Some((sa, _)) = newton_solve::<Dyn>(m, &g, n) else {
            return GaussNewton::Singular;
        };
        for (k, &j) in active.iter().enumerate() {
            s[j] = sa[k];
        }
        GaussNewton::Step { s, inv_quad: None }
    }

    /// `Ã + λ I`.
    fn shifted_matrix(&self, lambda: f64) -> OMatrix<f64, N, N> {
        let mut m = self.a.clone();
        for i in 0..self.g.len() {
            m[(i, i)] += lambda;
        }
        m
    }

    /// Solves `(Ã + λ I) s = -g̃` for λ > 0 by Cholesky; if that fails (λ below the rounding
    /// noise of a singular `Ã`), by an eigen-decomposition of the equilibrated matrix with its
    /// eigenvalues kept at or above their exact lower bound.
    fn shifted(&self, lambda: f64) -> Shifted<N> {
        if let Some(chol) = Cholesky::new(self.shifted_matrix(lambda)) {
            let s = -chol.solve(&self.g);
            let snorm = s.norm();
            if snorm.is_finite() {
                let inv_quad = if snorm > 0.0 {
                    chol.l_dirty()
                        .solve_lower_triangular(&(&s / snorm))
                        .map_or(f64::NAN, |w| w.norm_squared())
                } else {
                    0.0
                };
                return Shifted { s, inv_quad };
            }
        }
        let (s, inv_quad) = shifted_by_eigen(&self.shifted_matrix(lambda), &self.g, lambda);
        Shifted {
            s: OVector::from_iterator_generic(self.g.shape_generic().0, U1, s.iter().copied()),
            inv_quad,
        }
    }
}

/// `m s = -g` by Cholesky, with its factor; `None` when the factorization fails, a pivot is
/// below `n ε` of `m`'s largest diagonal entry (`n` the full system's size) or the step is
/// not finite.
fn newton_solve<M: Dim>(
    m: OMatrix<f64, M, M>,
    g: &OVector<f64, M>,
    n: usize,
) -> Option<(OVector<f64, M>, Cholesky<f64, M>)>
where
    DefaultAllocator: Allocator<M, M> + Allocator<M>,
{
    let max_diag = m.diagonal().max();
    let chol = Cholesky::new(m)?;
    let min_pivot = chol.l_dirty().diagonal().min();
    if min_pivot * min_pivot <= n as f64 * f64::EPSILON * max_diag {
        return None;
    }
    let s = -chol.solve(g);
    s.iter().all(|v| v.is_finite()).then_some((s, chol))
}

/// The eigen-decomposition path of [`ScaledSystem::shifted`] for `m = Ã + λ I`: the step and
/// its `inv_quad`.
fn shifted_by_eigen<N: Dim>(
    m: &OMatrix<f64, N, N>,
    g: &OVector<f64, N>,
    lambda: f64,
) -> (DVector<f64>, f64)
where
    DefaultAllocator: Allocator<N, N> + Allocator<N>,
{
    let n = g.len();
    let g = DVector::from_iterator(n, g.iter().copied());
    // M = Ã + λ I = E⁻¹ B E⁻¹ with B = E M E, E = diag(M_ii)^(-1/2); B = V diag(μ) Vᵀ with
    // μ ≥ λ min E² in exact arithmetic, as Ã is positive semidefinite.
    let e = DVector::from_fn(n, |i, _| 1.0 / m[(i, i)].max(lambda).sqrt());
    let b = DMatrix::from_fn(n, n, |i, j| e[i] * m[(i, j)] * e[j]);
    // Defensive: accepted passes have finite entries, so the decomposition exists; without
    // one the step is zero and the radius shrinks until `xtol` stops the fit.
    let eig = b
        .iter()
        .chain(g.iter())
        .all(|v| v.is_finite())
        .then(|| SymmetricEigen::<f64, Dyn>::try_new(b.clone(), f64::EPSILON, 1000))
        .flatten();
    let Some(eig) = eig else {
        return (DVector::zeros(n), f64::NAN);
    };
    let floor = lambda * e.min().powi(2);
    let mu = eig.eigenvalues.map(|v| v.max(floor));
    let c = eig.eigenvectors.transpose() * g.component_mul(&e);
    let y = DVector::from_fn(n, |i, _| -c[i] / mu[i]);
    let s = (&eig.eigenvectors * &y).component_mul(&e);
    let snorm = s.norm();
    let inv_quad = if snorm > 0.0 {
        let cz = eig.eigenvectors.transpose() * (&s / snorm).component_mul(&e);
        (0..n).map(|i| cz[i] * cz[i] / mu[i]).sum()
    } else {
        0.0
    };
    (s, inv_quad)
}

/// MINPACK's `lmpar`: the λ ≥ 0 for which the step `s(λ)` has `‖s‖` within 10% of `delta`
/// (or λ = 0 when the Gauss–Newton step is already shorter than `1.1 delta`), found by a
/// safeguarded Newton iteration started from `par`. Returns λ and the scaled step `s = D p`.
pub(super) fn lmpar<N: Dim>(sys: &ScaledSystem<N>, delta: f64, par: f64) -> (f64, OVector<f64, N>)
where
    DefaultAllocator: Allocator<N, N> + Allocator<N>,
{
    // The Gauss–Newton step, taken when it is short enough; otherwise a lower bound for λ
    // from it (only when `Ã` is nonsingular, as in MINPACK).
    let (mut dxnorm, mut fp, mut parl, mut best) = match sys.gauss_newton() {
        GaussNewton::Step { s, inv_quad } => {
            let dxnorm = s.norm();
            let fp = dxnorm - delta;
            if fp <= 0.1 * delta {
                return (0.0, s);
            }
            let parl = inv_quad.map_or(0.0, |q| (fp / delta) / q);
            (dxnorm, fp, if parl.is_finite() { parl } else { 0.0 }, s)
        }
        GaussNewton::Singular => (
            f64::INFINITY,
            f64::INFINITY,
            0.0,
            OVector::zeros_generic(sys.g.shape_generic().0, U1),
        ),
    };
    // An upper bound: ‖g̃‖ / Δ.
    let gnorm = sys.g.norm();
    let mut paru = gnorm / delta;
    if paru == 0.0 {
        paru = f64::MIN_POSITIVE / delta.min(0.1);
    }

    let mut par = par.max(parl).min(paru);
    if par == 0.0 {
        par = gnorm / dxnorm;
    }
    for iter in 1..=LMPAR_MAX_ITER {
        if par == 0.0 {
            par = f64::MIN_POSITIVE.max(0.001 * paru);
        }
        let shifted = sys.shifted(par);
        dxnorm = shifted.s.norm();
        if !dxnorm.is_finite() {
            // Cannot happen for a finite system; fall back to the last step cut to length Δ.
            let norm = best.norm();
            if norm > delta {
                best *= delta / norm;
            }
            break;
        }
        best = shifted.s;
        let previous = fp;
        fp = dxnorm - delta;
        if fp.abs() <= 0.1 * delta
            || (parl == 0.0 && fp <= previous && previous < 0.0)
            || iter == LMPAR_MAX_ITER
        {
            break;
        }
        // The Newton correction.
        let parc = (fp / delta) / shifted.inv_quad;
        if !parc.is_finite() {
            break;
        }
        if fp > 0.0 {
            parl = parl.max(par);
        } else if fp < 0.0 {
            paru = paru.min(par);
        }
        par = parl.max(par + parc);
    }
    (par, best)
}
