//! The NIST StRD nonlinear regression problems: all 27, from both starting points, with
//! Levenberg–Marquardt and trust-region reflective, at tight tolerances and at defaults.
//! Prints the table of LREs (correct significant digits of the worst parameter against the
//! certified value) and holds the bars of the CPU-fits issue: 54/54 at LRE ≥ 6 per method with
//! tight tolerances (the suite every backend runs, `nlsq_testkit::testgen_nist!`); at default
//! settings, the figures the README and `CurveFit::new` state: 52/54 with LM, 50/54 with TRF.

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
fn nist_strd_default_settings_as_documented() {
    let title = "NIST StRD, default settings";
    let (_, [lm, trf]) = nist::table(title, CPU.backend, CPU.name, Precision::F64, false);
    assert!(
        lm >= 52,
        "LM reached LRE >= 6 on {lm}/54 at defaults (documented: 52)"
    );
    assert!(
        trf >= 50,
        "TRF reached LRE >= 6 on {trf}/54 at defaults (documented: 50)"
    );
}
