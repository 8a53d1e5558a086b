//! The NIST StRD nonlinear regression problems: all 27, from both starting points, with
//! Levenberg–Marquardt and trust-region reflective, at tight tolerances and at defaults.
//! Prints the table of LREs (correct significant digits of the worst parameter against the
//! certified value) and holds the bars of the CPU-fits issue: 54/54 at LRE ≥ 6 per method with
//! tight tolerances (the suite every backend runs, `nlsq_testkit::testgen_nist!`); at least
//! 45/54 with default settings.

use nlsq::{Backend, Precision};
use nlsq_testkit::nist;
use nlsq_testkit::suite::Device;

const CPU: Device = Device {
    backend: Backend::Cpu,
    name: "cpu",
};

nlsq_testkit::testgen_nist! {
    device: CPU,
    ready: |_| true,
}

#[test]
fn nist_strd_default_settings_at_least_45() {
    let title = "NIST StRD, default settings";
    let (_, [lm, trf]) = nist::table(title, CPU.backend, CPU.name, Precision::F64, false);
    assert!(lm >= 45, "LM reached LRE >= 6 on {lm}/54 at defaults");
    assert!(trf >= 45, "TRF reached LRE >= 6 on {trf}/54 at defaults");
}
