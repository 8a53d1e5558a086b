//! The MPI launcher of the distributed tests, whichever is installed as `mpirun`: OpenMPI's
//! or MPICH's Hydra, which differ in the options the tests need. Plain Rust without nlsq:
//! the command line's tests, which do not depend on this crate, compile the same file by path.

use std::process::Command;
use std::sync::OnceLock;

/// Whether `mpirun --version` runs.
pub fn available() -> bool {
    Command::new("mpirun")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether `mpirun` is OpenMPI's (else MPICH's Hydra).
pub fn open_mpi() -> bool {
    static OPEN_MPI: OnceLock<bool> = OnceLock::new();
    *OPEN_MPI.get_or_init(|| {
        Command::new("mpirun")
            .arg("--version")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("Open MPI"))
    })
}

/// `mpirun` with the option to run more ranks than cores (OpenMPI's `--oversubscribe`; MPICH
/// needs none) and the variables that let OpenMPI run as root (containers, CI).
pub fn command() -> Command {
    let mut cmd = Command::new("mpirun");
    if open_mpi() {
        cmd.arg("--oversubscribe");
    }
    cmd.env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    cmd
}

/// The `mpirun` option that keeps a job running when one of its processes dies.
pub fn survive_a_death() -> &'static str {
    if open_mpi() {
        "--enable-recovery"
    } else {
        "-disable-auto-cleanup"
    }
}

/// A shell expression for a process's rank in its job, under either launcher.
pub const RANK_IN_SHELL: &str = "${OMPI_COMM_WORLD_RANK:-$PMI_RANK}";
