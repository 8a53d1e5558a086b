//! Every emitted WGSL module (all entry points, f32 and f64, both pass paths; the batch-fit
//! modules too) parses and validates with naga and translates to SPIR-V.

mod support;

use kernels_gen::kernels::{wgsl, wgsl_batch};
use kernels_gen::{Compiled, Precision};
use naga::valid::{Capabilities, ValidationFlags, Validator};

fn check(name: &str, precision: Precision, src: &str, entry_points: &[&str]) -> Result<(), String> {
    let module = naga::front::wgsl::parse_str(src).map_err(|e| {
        format!(
            "{name} ({precision}): parse error\n{}",
            e.emit_to_string(src)
        )
    })?;
    let caps = match precision {
        Precision::F64 => Capabilities::FLOAT64,
        Precision::F32 => Capabilities::empty(),
    };
    let info = Validator::new(ValidationFlags::all(), caps)
        .validate(&module)
        .map_err(|e| format!("{name} ({precision}): invalid\n{}", e.emit_to_string(src)))?;
    for &ep in entry_points {
        if !module.entry_points.iter().any(|e| e.name == ep) {
            return Err(format!("{name} ({precision}): entry point {ep} missing"));
        }
    }
    naga::back::spv::write_vec(&module, &info, &naga::back::spv::Options::default(), None)
        .map_err(|e| format!("{name} ({precision}): SPIR-V generation failed: {e}"))?;
    Ok(())
}

#[test]
fn every_wgsl_module_validates_with_naga() {
    let mut failures = Vec::new();
    let (mut validated, mut batch) = (0, 0);
    for m in support::all_models() {
        let name = m.name.clone();
        let c = Compiled::new(m);
        for p in Precision::ALL {
            match check(&name, p, c.wgsl_source(p), &wgsl::ENTRY_POINTS) {
                Ok(()) => validated += 1,
                Err(e) => failures.push(e),
            }
            if let Some(src) = c.wgsl_batch_source(p) {
                match check(
                    &format!("{name} (batch)"),
                    p,
                    src,
                    &wgsl_batch::ENTRY_POINTS,
                ) {
                    Ok(()) => batch += 1,
                    Err(e) => failures.push(e),
                }
            }
        }
    }
    println!(
        "naga: {validated} WGSL modules and {batch} batch modules validated and translated to SPIR-V"
    );
    assert!(batch > 0, "no batch module checked");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
