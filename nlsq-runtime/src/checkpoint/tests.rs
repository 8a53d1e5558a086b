use super::*;
use crate::solve::Method;
use crate::solve::Pass;
use crate::solve::state::{DogboxState, LmState, TrfState};
use kernels_gen::ModelHash;
use nalgebra::{DMatrix, DVector};
use std::path::PathBuf;

/// A fresh directory under the system's temporary directory.
fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nlsq-ckpt-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn pass() -> Pass {
    Pass {
        cost: 0.1 + 0.2,
        jtj: DMatrix::from_row_slice(2, 2, &[4.0, f64::MIN_POSITIVE, f64::MIN_POSITIVE, 1e300]),
        gradient: DVector::from_vec(vec![-0.0, 5e-324]),
        n_points: 17,
        n_nonfinite: 0,
    }
}

fn states() -> Vec<SolverState> {
    let x = vec![std::f64::consts::PI, -1.0 / 3.0];
    vec![
        SolverState::Lm(LmState {
            x: x.clone(),
            pass: pass(),
            nfev: 12,
            njev: 9,
            nit: 8,
            diag: vec![1.0, 1e-308],
            delta: 0.1,
            xnorm: 2.0_f64.sqrt(),
            par: 0.0,
            first: false,
        }),
        SolverState::Trf(TrfState {
            x: x.clone(),
            pass: pass(),
            nfev: 3,
            njev: 2,
            nit: 2,
            scale: vec![f64::INFINITY, 1.0],
            scale_inv: vec![0.0, 1.0],
            delta: 1e-20,
            alpha: f64::NAN,
        }),
        SolverState::Dogbox(DogboxState {
            x,
            pass: pass(),
            nfev: 30,
            njev: 20,
            nit: 19,
            scale: vec![1.0, 2.0],
            scale_inv: vec![1.0, 0.5],
            delta: 7.0,
            on_bound: vec![-1, 1],
        }),
    ]
}

fn identity(method: Method) -> FitIdentity {
    FitIdentity {
        model: ModelHash([7; 32]),
        method,
        n_params: 2,
        options: [1; 32],
        n_points: 17,
        data: [2; 32],
    }
}

fn checkpoint(state: SolverState) -> Checkpoint {
    Checkpoint {
        identity: identity(state.method()),
        data_cursor: 42,
        state,
    }
}

/// Field-by-field equality that tells NaN payloads apart and is exact for every bit.
fn same_bits(a: &Checkpoint, b: &Checkpoint) -> bool {
    a.encode() == b.encode()
        && a.identity == b.identity
        && a.data_cursor == b.data_cursor
        && a.state.method() == b.state.method()
}

#[test]
fn every_state_round_trips_exactly() {
    for state in states() {
        let c = checkpoint(state);
        let bytes = c.encode();
        let back = Checkpoint::decode(&bytes, "mem").unwrap();
        assert!(same_bits(&c, &back));
        if let (SolverState::Trf(a), SolverState::Trf(b)) = (&c.state, &back.state) {
            assert!(a.alpha.is_nan() && b.alpha.is_nan());
            assert_eq!(a.scale, b.scale);
        } else {
            assert_eq!(c, back);
        }
        assert_eq!(back.data_cursor, 42);
        assert_eq!(back.state.pass().gradient[0].to_bits(), (-0.0f64).to_bits());
    }
}

#[test]
fn damaged_truncated_foreign_and_future_files_are_refused() {
    let bytes = checkpoint(states().remove(0)).encode();
    for at in [8 + 4, 8 + 4 + 40, bytes.len() / 2, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x10;
        let err = Checkpoint::decode(&bad, "f").unwrap_err();
        assert!(
            matches!(err, CheckpointError::Corrupt { .. }),
            "byte {at}: {err}"
        );
    }
    for len in [9, 20, bytes.len() - 32, bytes.len() - 1] {
        let err = Checkpoint::decode(&bytes[..len], "f").unwrap_err();
        assert!(
            matches!(err, CheckpointError::Corrupt { .. }),
            "len {len}: {err}"
        );
    }
    let err = Checkpoint::decode(b"{\"popt\": [1, 2]}", "f").unwrap_err();
    assert_eq!(err, CheckpointError::NotACheckpoint { path: "f".into() });
    let mut future = bytes.clone();
    future[8..12].copy_from_slice(&2u32.to_le_bytes());
    let err = Checkpoint::decode(&future, "f").unwrap_err();
    assert!(matches!(
        err,
        CheckpointError::UnsupportedVersion {
            found: 2,
            supported: 1,
            ..
        }
    ));
    assert!(err.to_string().contains("version 2"));
}

#[test]
fn identity_mismatches_name_what_differs() {
    let c = checkpoint(states().remove(1));
    let id = identity(Method::Trf);
    c.check_identity(&id, "f").unwrap();
    type Is = fn(&CheckpointError) -> bool;
    let cases: Vec<(FitIdentity, Is)> = vec![
        (
            FitIdentity {
                model: ModelHash([8; 32]),
                ..id.clone()
            },
            |e| matches!(e, CheckpointError::OtherModel { .. }),
        ),
        (
            FitIdentity {
                method: Method::Dogbox,
                ..id.clone()
            },
            |e| matches!(e, CheckpointError::OtherMethod { .. }),
        ),
        (
            FitIdentity {
                n_points: 18,
                ..id.clone()
            },
            |e| matches!(e, CheckpointError::OtherData { .. }),
        ),
        (
            FitIdentity {
                data: [3; 32],
                ..id.clone()
            },
            |e| matches!(e, CheckpointError::OtherData { .. }),
        ),
        (
            FitIdentity {
                options: [0; 32],
                ..id.clone()
            },
            |e| matches!(e, CheckpointError::OtherOptions { .. }),
        ),
    ];
    for (other, is) in cases {
        let err = c.check_identity(&other, "f").unwrap_err();
        assert!(is(&err), "{err}");
    }
}

#[test]
fn files_are_written_atomically_read_back_and_never_clobber_user_files() {
    let dir = temp_dir("files");
    let path = dir.join("fit.ckpt");
    assert_eq!(
        read(&path).unwrap_err(),
        CheckpointError::Missing {
            path: path.display().to_string()
        }
    );
    check_writable(&path).unwrap();
    let c = checkpoint(states().remove(2));
    crate::atomic_file::write_atomically(&path, &c.encode()).unwrap();
    assert!(same_bits(&read(&path).unwrap(), &c));
    check_writable(&path).unwrap();
    // Only the checkpoint is left: no temporary files.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

    let user = dir.join("data.csv");
    std::fs::write(&user, "x,y\n1,2\n").unwrap();
    assert!(matches!(
        check_writable(&user),
        Err(CheckpointError::NotACheckpoint { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_writer_keeps_the_latest_and_reports_failures() {
    let dir = temp_dir("writer");
    let path = dir.join("w.ckpt");
    let writer = CheckpointWriter::spawn(path.clone()).unwrap();
    let all = states();
    for s in &all {
        writer.submit(checkpoint(s.clone()));
    }
    let report = writer.finish(true);
    assert_eq!(report.failed, 0);
    assert_eq!(report.written + report.skipped, 3);
    assert!(report.written >= 1);
    // The last submitted checkpoint is the one on disk.
    assert!(same_bits(
        &read(&path).unwrap(),
        &checkpoint(all[2].clone())
    ));
    assert_eq!(report.last_iteration, Some(19));

    // Without flush, a pending checkpoint is dropped; one being written is finished.
    let writer = CheckpointWriter::spawn(dir.join("d.ckpt")).unwrap();
    writer.submit(checkpoint(all[1].clone()));
    let report = writer.finish(false);
    assert_eq!(report.written + report.skipped, 1);
    if report.written == 1 {
        assert!(same_bits(
            &read(&dir.join("d.ckpt")).unwrap(),
            &checkpoint(all[1].clone())
        ));
    }

    let missing = dir.join("no-such-dir").join("w.ckpt");
    let writer = CheckpointWriter::spawn(missing).unwrap();
    writer.submit(checkpoint(all[0].clone()));
    let report = writer.finish(true);
    assert_eq!((report.written, report.failed), (0, 1));
    assert!(report.last_error.unwrap().contains("no-such-dir"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_is_checked_and_due_on_schedule() {
    assert!(Every::Iterations(0).check().is_err());
    assert!(Every::Seconds(f64::NAN).check().is_err());
    assert!(Every::Seconds(-1.0).check().is_err());
    Every::Seconds(0.0).check().unwrap();
    let dir = temp_dir("every");
    let writer = CheckpointWriter::spawn(dir.join("e.ckpt")).unwrap();
    let mut sink = CheckpointSink::new(writer, Every::Iterations(3), identity(Method::Lm));
    let due: Vec<usize> = (1..=10).filter(|&i| sink.due(i)).collect();
    assert_eq!(due, [3, 6, 9]);
    // A driver moves the data cursor while the solver runs; the snapshot carries it.
    sink.data_cursor()
        .store(5, std::sync::atomic::Ordering::Release);
    sink.put(states().remove(0));
    let report = sink.finish(true);
    assert_eq!(report.written, 1);
    assert_eq!(read(&dir.join("e.ckpt")).unwrap().data_cursor, 5);
    let writer = CheckpointWriter::spawn(dir.join("s.ckpt")).unwrap();
    let mut sink = CheckpointSink::new(writer, Every::Seconds(3600.0), identity(Method::Lm));
    assert!(!sink.due(1));
    sink.finish(true);
    std::fs::remove_dir_all(&dir).unwrap();
}
