//! Compiling CUDA modules to cubin with NVRTC (feature `nvrtc`).
//!
//! NVRTC is loaded dynamically (cudarc's `dynamic-loading`): building needs no CUDA toolkit,
//! and a machine without a GPU can still compile kernels, which is how CI checks every
//! generated CUDA source. Put the folder holding `libnvrtc.so.13` on `LD_LIBRARY_PATH`.

use cudarc::nvrtc::{result, sys};
use std::ffi::CString;

/// A failure to compile a module, with NVRTC's log.
#[derive(Debug, thiserror::Error)]
pub enum NvrtcError {
    /// The NVRTC library could not be loaded.
    #[error(
        "NVRTC is not available: no libnvrtc found on the library path (install the CUDA toolkit or the `nvidia-cuda-nvrtc` wheel and add its lib folder to LD_LIBRARY_PATH)"
    )]
    NotFound,
    /// The source did not compile.
    #[error("NVRTC failed to compile the kernels of model `{model}` for {arch}:\n{log}")]
    Compile {
        /// The model's name.
        model: String,
        /// The target architecture, e.g. `sm_90`.
        arch: String,
        /// The compiler's log.
        log: String,
    },
    /// An NVRTC call failed outside compilation.
    #[error("NVRTC call failed: {0:?}")]
    Api(result::NvrtcError),
    /// The source contained a NUL byte.
    #[error("CUDA source contains a NUL byte")]
    Nul,
}

/// Whether an NVRTC library can be loaded.
pub fn available() -> bool {
    // SAFETY: only probes whether the shared library can be opened.
    unsafe { sys::is_culib_present() }
}

/// The NVRTC version as (major, minor).
pub fn version() -> Result<(i32, i32), NvrtcError> {
    if !available() {
        return Err(NvrtcError::NotFound);
    }
    let (mut major, mut minor) = (0, 0);
    // SAFETY: two valid out-pointers.
    unsafe { sys::nvrtcVersion(&mut major, &mut minor) }
        .result()
        .map_err(NvrtcError::Api)?;
    Ok((major, minor))
}

/// Compiles `source` to a cubin for a real architecture such as `sm_90`.
///
/// `model` names the model in error messages.
pub fn compile_cubin(source: &str, arch: &str, model: &str) -> Result<Vec<u8>, NvrtcError> {
    if !available() {
        return Err(NvrtcError::NotFound);
    }
    let src = CString::new(source).map_err(|_| NvrtcError::Nul)?;
    let name = CString::new(format!("{model}.cu")).map_err(|_| NvrtcError::Nul)?;
    let prog = result::create_program(&src, Some(&name)).map_err(NvrtcError::Api)?;
    let options = [
        format!("--gpu-architecture={arch}"),
        "--std=c++17".to_string(),
    ];
    // SAFETY: `prog` was just created and is destroyed exactly once below; `src` and `name`
    // outlive it.
    unsafe {
        let compiled = result::compile_program(prog, &options);
        let out = match compiled {
            Ok(()) => cubin(prog),
            Err(_) => {
                let log = result::get_program_log(prog)
                    .map(|l| {
                        let bytes: Vec<u8> =
                            l.iter().map(|&c| c as u8).take_while(|&b| b != 0).collect();
                        String::from_utf8_lossy(&bytes).into_owned()
                    })
                    .unwrap_or_default();
                Err(NvrtcError::Compile {
                    model: model.to_string(),
                    arch: arch.to_string(),
                    log,
                })
            }
        };
        let _ = result::destroy_program(prog);
        out
    }
}

/// # Safety
/// `prog` must be a successfully compiled, live program.
unsafe fn cubin(prog: sys::nvrtcProgram) -> Result<Vec<u8>, NvrtcError> {
    let mut size = 0usize;
    // SAFETY: per the caller's contract; `size` and the buffer are valid for the writes.
    unsafe {
        sys::nvrtcGetCUBINSize(prog, &mut size)
            .result()
            .map_err(NvrtcError::Api)?;
        let mut buf = vec![0u8; size];
        sys::nvrtcGetCUBIN(prog, buf.as_mut_ptr().cast())
            .result()
            .map_err(NvrtcError::Api)?;
        Ok(buf)
    }
}
