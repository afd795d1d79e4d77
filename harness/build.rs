//! Compiles the C++ shim (`src/backend/libtorch/shim.cpp`) that supplies the autograd surface tch
//! lacks, against the same libtorch that torch-sys links.
//!
//! torch-sys declares `links = "tch"` and prints `cargo:libtorch_lib=<lib dir>`, which reaches this
//! script as `DEP_TCH_LIBTORCH_LIB`. The headers sit beside that folder in every layout libtorch
//! ships in (the C++ zip and the Python wheel's `torch/`).

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/backend/libtorch/shim.cpp");
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");

    let Some(lib) = env::var_os("DEP_TCH_LIBTORCH_LIB").map(PathBuf::from) else {
        // Only reachable when torch-sys stops exporting its lib dir; say what broke instead of a
        // page of missing-header errors.
        panic!(
            "DEP_TCH_LIBTORCH_LIB is not set: torch-sys did not report where libtorch lives. \
             Run scripts/setup.sh or point LIBTORCH at a libtorch 2.13.0 folder."
        );
    };
    let root = lib
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| lib.clone());
    let include = root.join("include");
    // torch-sys defaults to the new ABI unless told otherwise; both objects must agree or
    // std::string crossing the boundary breaks at link time.
    let abi = env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".to_owned());

    cc::Build::new()
        .cpp(true)
        .pic(true)
        .warnings(false)
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={abi}"))
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .file("src/backend/libtorch/shim.cpp")
        .compile("autograd_shim");

    println!("cargo:rustc-link-search=native={}", lib.display());
    println!("cargo:rustc-link-lib=dylib=torch_cpu");
    println!("cargo:rustc-link-lib=dylib=c10");
    // Test, bench and binary targets of this package find libtorch without LD_LIBRARY_PATH.
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
}
