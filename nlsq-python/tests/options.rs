//! The pure-Rust option parsing of the extension, compiled on its own (the extension itself
//! does not link libpython, so it has no Rust test binary; see Cargo.toml).

#[path = "../src/options.rs"]
#[allow(dead_code)]
mod options;
