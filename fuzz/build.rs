//! Lets the fuzz binaries find libtorch at run time without LD_LIBRARY_PATH.
//!
//! torch-sys reports its lib dir only to direct dependents (`DEP_TCH_LIBTORCH_LIB`), and this
//! crate reaches libtorch through the harness, so the folder is read from `LIBTORCH` (which
//! `.cargo/config.toml` sets to the workspace's `.libtorch`) or found beside the workspace root.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let root = std::env::var_os("LIBTORCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(".libtorch")
        });
    let root = if root.is_relative() {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(root)
    } else {
        root
    };
    let lib = root.join("lib");
    let lib = lib.canonicalize().unwrap_or(lib);
    println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{}", lib.display());
    println!("cargo:rustc-link-arg-examples=-Wl,-rpath,{}", lib.display());
}
