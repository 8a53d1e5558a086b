//! Every emitted CUDA module (f32 and f64, both pass paths; the batch-fit modules too)
//! compiles with NVRTC to an sm_90 cubin. NVRTC needs no GPU, but its library: the tests are
//! ignored by default, with that reason, and CI (which installs the `nvidia-cuda-nvrtc` wheel)
//! runs them with `--include-ignored`, where a missing NVRTC is a failure.

#![cfg(feature = "nvrtc")]

mod support;

use kernels_gen::{Compiled, Precision, nvrtc};
use std::sync::Mutex;

const ARCH: &str = "sm_90";

const NO_NVRTC: &str =
    "NVRTC not found (LD_LIBRARY_PATH has no libnvrtc.so.13): install the nvidia-cuda-nvrtc wheel";

#[test]
#[ignore = "needs NVRTC 13 (libnvrtc.so.13 on LD_LIBRARY_PATH; .ci/run installs it): cargo test -p kernels-gen --test cuda_nvrtc -- --include-ignored"]
fn every_cuda_module_compiles_to_sm90_cubin() {
    assert!(nvrtc::available(), "{NO_NVRTC}");
    let (major, minor) = nvrtc::version().expect("NVRTC version");
    let jobs: Vec<(String, Precision, String)> = support::all_models()
        .into_iter()
        .flat_map(|m| {
            let name = m.name.clone();
            let c = Compiled::new(m);
            let mut jobs: Vec<_> = Precision::ALL
                .iter()
                .map(|&p| (name.clone(), p, c.cuda_source(p).to_string()))
                .collect();
            jobs.extend(Precision::ALL.iter().filter_map(|&p| {
                c.cuda_batch_source(p)
                    .map(|s| (format!("{name} (batch)"), p, s.to_string()))
            }));
            jobs
        })
        .collect();
    let n_batch = jobs.iter().filter(|j| j.0.ends_with("(batch)")).count();
    assert!(n_batch > 0, "no batch module to compile");
    let queue = Mutex::new(jobs.into_iter());
    let results = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let Some((name, p, src)) = queue.lock().unwrap().next() else {
                        break;
                    };
                    let r = nvrtc::compile_cubin(&src, ARCH, &name)
                        .map(|cubin| cubin.len())
                        .map_err(|e| format!("{name} ({p}): {e}"));
                    results.lock().unwrap().push(r);
                }
            });
        }
    });
    let results = results.into_inner().unwrap();
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    let ok = results.len() - failures.len();
    let bytes: usize = results.iter().filter_map(|r| r.as_ref().ok()).sum();
    println!(
        "NVRTC {major}.{minor}: {ok} CUDA modules ({n_batch} of them batch modules) compiled to {ARCH} cubin ({} KiB of SASS)",
        bytes / 1024
    );
    assert!(
        failures.is_empty(),
        "{} modules failed:\n{}",
        failures.len(),
        failures
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

#[test]
#[ignore = "needs NVRTC 13 (libnvrtc.so.13 on LD_LIBRARY_PATH; .ci/run installs it): cargo test -p kernels-gen --test cuda_nvrtc -- --include-ignored"]
fn compile_errors_carry_the_log_and_the_model_name() {
    assert!(nvrtc::available(), "{NO_NVRTC}");
    let err = nvrtc::compile_cubin("this is not CUDA", ARCH, "broken_model").unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("broken_model") && msg.contains("error"),
        "{msg}"
    );
}
