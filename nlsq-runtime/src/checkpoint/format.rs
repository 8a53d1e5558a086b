//! The checkpoint file format (version 1), little-endian throughout:
//!
//! ```text
//! magic      8 bytes  "NLSQCKPT"
//! version    u32      FORMAT_VERSION
//! identity            model hash (32), method (u8), P (u64), options fingerprint (32),
//!                     points N (u64), data fingerprint (32)
//! cursor     u64      data cursor (0 for in-memory fits)
//! state               the solver state (see `encode_state`), every f64 as its exact bits
//! checksum   32 bytes BLAKE3 of everything before it
//! ```
//!
//! Floats are stored as their IEEE bits, so every value (±∞ and NaN included) round-trips
//! exactly and a resumed fit continues bit for bit.

use super::bytes::{Reader, Writer};
use crate::error::CheckpointError;
use crate::solve::Method;
use crate::solve::Pass;
use crate::solve::state::{DogboxState, LmState, SolverState, TrfState};
use kernels_gen::ModelHash;
use nalgebra::{DMatrix, DVector};

/// The first bytes of every checkpoint.
pub const MAGIC: [u8; 8] = *b"NLSQCKPT";
/// The format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
const CHECKSUM_LEN: usize = 32;

/// What a checkpoint must share with a fit to resume it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FitIdentity {
    /// The model's content hash ([`crate::Model::hash`]).
    pub model: ModelHash,
    /// The solver.
    pub method: Method,
    /// Parameters `P`.
    pub n_params: usize,
    /// Fingerprint of the options that change the iterates (see
    /// `options_fingerprint`).
    pub options: [u8; 32],
    /// Points `N`.
    pub n_points: u64,
    /// Fingerprint of the data (BLAKE3 of its columns).
    pub data: [u8; 32],
}

/// A saved fit: who it belongs to, where in the data it was and the solver's state.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// The fit it belongs to.
    pub identity: FitIdentity,
    /// Where a streaming driver was in its data (the index of the next chunk, say); 0 for
    /// fits whose data is all in memory.
    pub data_cursor: u64,
    /// The solver's state at an iteration boundary.
    pub state: SolverState,
}

impl Checkpoint {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes(&MAGIC);
        w.u32(FORMAT_VERSION);
        let id = &self.identity;
        w.bytes(id.model.as_bytes());
        w.u8(method_code(id.method));
        w.u64(id.n_params as u64);
        w.bytes(&id.options);
        w.u64(id.n_points);
        w.bytes(&id.data);
        w.u64(self.data_cursor);
        encode_state(&mut w, &self.state);
        let mut bytes = w.into_bytes();
        let sum = blake3::hash(&bytes);
        bytes.extend_from_slice(sum.as_bytes());
        bytes
    }

    /// Parses a checkpoint file's bytes; `path` names it in errors.
    pub fn decode(bytes: &[u8], path: &str) -> Result<Self, CheckpointError> {
        let corrupt = |reason: &str| CheckpointError::Corrupt {
            path: path.to_string(),
            reason: reason.to_string(),
        };
        if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
            return Err(CheckpointError::NotACheckpoint {
                path: path.to_string(),
            });
        }
        if bytes.len() < MAGIC.len() + 4 + CHECKSUM_LEN {
            return Err(corrupt("truncated"));
        }
        let mut r = Reader::new(&bytes[MAGIC.len()..]);
        let version = r.u32().ok_or_else(|| corrupt("truncated"))?;
        if version != FORMAT_VERSION {
            return Err(CheckpointError::UnsupportedVersion {
                path: path.to_string(),
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let (body, sum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
        if blake3::hash(body).as_bytes() != sum {
            return Err(corrupt("checksum mismatch (truncated or damaged file)"));
        }
        let mut r = Reader::new(&body[MAGIC.len() + 4..]);
        let parsed = (|| {
            let model = ModelHash(r.array()?);
            let method = method_from(r.u8()?)?;
            let n_params = usize::try_from(r.u64()?).ok()?;
            let options = r.array()?;
            let n_points = r.u64()?;
            let data = r.array()?;
            let data_cursor = r.u64()?;
            let state = decode_state(&mut r, method)?;
            r.is_empty().then_some(Checkpoint {
                identity: FitIdentity {
                    model,
                    method,
                    n_params,
                    options,
                    n_points,
                    data,
                },
                data_cursor,
                state,
            })
        })();
        let ckpt = parsed.ok_or_else(|| corrupt("malformed contents"))?;
        if ckpt.state.x().len() != ckpt.identity.n_params {
            return Err(corrupt("the state does not have P parameters"));
        }
        Ok(ckpt)
    }

    /// Whether this checkpoint belongs to the fit `id`; the reason why not as an error.
    pub fn check_identity(&self, id: &FitIdentity, path: &str) -> Result<(), CheckpointError> {
        let mine = &self.identity;
        let path = path.to_string();
        if mine.model != id.model {
            return Err(CheckpointError::OtherModel {
                path,
                found: mine.model.to_hex(),
                expected: id.model.to_hex(),
            });
        }
        if mine.method != id.method {
            return Err(CheckpointError::OtherMethod {
                path,
                found: mine.method.to_string(),
                expected: id.method.to_string(),
            });
        }
        if mine.n_points != id.n_points {
            return Err(CheckpointError::OtherData {
                path,
                reason: format!("{} points, this fit has {}", mine.n_points, id.n_points),
            });
        }
        if mine.data != id.data {
            return Err(CheckpointError::OtherData {
                path,
                reason: "same number of points, different values".into(),
            });
        }
        if mine.n_params != id.n_params || mine.options != id.options {
            return Err(CheckpointError::OtherOptions { path });
        }
        Ok(())
    }
}

fn method_code(m: Method) -> u8 {
    match m {
        Method::Lm => 0,
        Method::Trf => 1,
        Method::Dogbox => 2,
    }
}

fn method_from(code: u8) -> Option<Method> {
    match code {
        0 => Some(Method::Lm),
        1 => Some(Method::Trf),
        2 => Some(Method::Dogbox),
        _ => None,
    }
}

fn encode_pass(w: &mut Writer, p: &Pass) {
    w.f64(p.cost);
    w.f64s(p.jtj.as_slice());
    w.f64s(p.gradient.as_slice());
    w.u64(p.n_points);
    w.u64(p.n_nonfinite);
}

fn decode_pass(r: &mut Reader<'_>) -> Option<Pass> {
    let cost = r.f64()?;
    let jtj = r.f64s()?;
    let gradient = r.f64s()?;
    let n = gradient.len();
    if jtj.len() != n * n {
        return None;
    }
    Some(Pass {
        cost,
        jtj: DMatrix::from_vec(n, n, jtj),
        gradient: DVector::from_vec(gradient),
        n_points: r.u64()?,
        n_nonfinite: r.u64()?,
    })
}

/// The state, after the header: `x`, the pass, `nfev`, `njev`, `nit`, then the method's own
/// fields in declaration order.
fn encode_state(w: &mut Writer, state: &SolverState) {
    w.f64s(state.x());
    encode_pass(w, state.pass());
    let (nfev, njev, nit) = match state {
        SolverState::Lm(s) => (s.nfev, s.njev, s.nit),
        SolverState::Trf(s) => (s.nfev, s.njev, s.nit),
        SolverState::Dogbox(s) => (s.nfev, s.njev, s.nit),
    };
    for c in [nfev, njev, nit] {
        w.u64(c as u64);
    }
    match state {
        SolverState::Lm(s) => {
            w.f64s(&s.diag);
            w.f64(s.delta);
            w.f64(s.xnorm);
            w.f64(s.par);
            w.u8(u8::from(s.first));
        }
        SolverState::Trf(s) => {
            w.f64s(&s.scale);
            w.f64s(&s.scale_inv);
            w.f64(s.delta);
            w.f64(s.alpha);
        }
        SolverState::Dogbox(s) => {
            w.f64s(&s.scale);
            w.f64s(&s.scale_inv);
            w.f64(s.delta);
            w.u64(s.on_bound.len() as u64);
            for &b in &s.on_bound {
                w.u8(b as u8);
            }
        }
    }
}

fn decode_state(r: &mut Reader<'_>, method: Method) -> Option<SolverState> {
    let x = r.f64s()?;
    let pass = decode_pass(r)?;
    let mut count = || usize::try_from(r.u64()?).ok();
    let (nfev, njev, nit) = (count()?, count()?, count()?);
    Some(match method {
        Method::Lm => SolverState::Lm(LmState {
            x,
            pass,
            nfev,
            njev,
            nit,
            diag: r.f64s()?,
            delta: r.f64()?,
            xnorm: r.f64()?,
            par: r.f64()?,
            first: match r.u8()? {
                0 => false,
                1 => true,
                _ => return None,
            },
        }),
        Method::Trf => SolverState::Trf(TrfState {
            x,
            pass,
            nfev,
            njev,
            nit,
            scale: r.f64s()?,
            scale_inv: r.f64s()?,
            delta: r.f64()?,
            alpha: r.f64()?,
        }),
        Method::Dogbox => SolverState::Dogbox(DogboxState {
            x,
            pass,
            nfev,
            njev,
            nit,
            scale: r.f64s()?,
            scale_inv: r.f64s()?,
            delta: r.f64()?,
            on_bound: {
                let n = usize::try_from(r.u64()?).ok()?;
                if n > r.remaining() {
                    return None;
                }
                (0..n)
                    .map(|_| r.u8().map(|b| b as i8))
                    .collect::<Option<Vec<_>>>()?
            },
        }),
    })
}
