//! The CUDA C kernel sources (`engine/kernels/*.cu`, one module per hand-written op family;
//! the op table's rows bring their own) and their run-time compilation by NVRTC. Compiling
//! needs libnvrtc but no GPU, which is what lets the kernel sources be checked on machines
//! without one.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cudarc::nvrtc::{CompileOptions, Ptx};

use crate::{Error, Result};

const PRELUDE: &str = include_str!("../../kernels/prelude.cuh");

/// A kernel module: its name (the NVRTC file name and the per-device cache key) and its CUDA
/// C source without the prelude.
pub type Module = (&'static str, &'static str);

/// The hand-written kernel families. The elementwise kernels of the op table are not here:
/// each table row carries its own module (`ops::table`), built from the row's expressions by
/// the prelude's `UNARY_*`/`BINARY_*`/`COMPARE` macros.
pub const CLAMP: Module = ("clamp", include_str!("../../kernels/clamp.cu"));
pub const SELECT: Module = ("select", include_str!("../../kernels/select.cu"));
pub const REDUCE: Module = ("reduce", include_str!("../../kernels/reduce.cu"));
pub const COPY: Module = ("copy", include_str!("../../kernels/copy.cu"));
pub const INDEX: Module = ("index", include_str!("../../kernels/index.cu"));
pub const CONV: Module = ("conv", include_str!("../../kernels/conv.cu"));

/// Every hand-written kernel module.
pub const MODULES: &[Module] = &[CLAMP, SELECT, REDUCE, COPY, INDEX, CONV];

/// The full source NVRTC sees for a module body: the shared prelude, then the body.
pub fn with_prelude(body: &str) -> String {
    format!("{PRELUDE}\n{body}")
}

/// The full source NVRTC sees for the hand-written module `module`.
pub fn source(module: &str) -> Result<String> {
    let (_, body) = MODULES
        .iter()
        .find(|(name, _)| *name == module)
        .ok_or_else(|| Error::Cuda(format!("no kernel module named {module}")))?;
    Ok(with_prelude(body))
}

/// Compiles one module to PTX. Fails with the NVRTC log when the source does not compile.
pub fn compile(module: &str) -> Result<Ptx> {
    compile_source(module, &source(module)?)
}

/// Compiles the full source `src` (prelude included) under the name `module`.
pub fn compile_source(module: &str, src: &str) -> Result<Ptx> {
    load_nvrtc()?;
    let opts = CompileOptions {
        name: Some(format!("{module}.cu")),
        ..CompileOptions::default()
    };
    cudarc::nvrtc::compile_ptx_with_opts(src, opts)
        .map_err(|e| Error::Cuda(format!("NVRTC failed to compile {module}.cu: {e:?}")))
}

/// Directories where the torch wheel's CUDA libraries may be: `ENGINE_CUDA_LIB_DIR`, then the
/// `nvidia/cu13/lib` folder beside the `torch/` folder that `LIBTORCH` names (at run time,
/// then as it was when the engine was built, which `.cargo/config.toml` sets).
fn candidate_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("ENGINE_CUDA_LIB_DIR") {
        dirs.push(PathBuf::from(d));
    }
    let wheel_lib = |torch: &Path| torch.join("..").join("nvidia").join("cu13").join("lib");
    if let Some(t) = std::env::var_os("LIBTORCH") {
        dirs.push(wheel_lib(Path::new(&t)));
    }
    if let Some(t) = option_env!("LIBTORCH") {
        let t = Path::new(t);
        // A relative LIBTORCH in the cargo config is relative to the workspace root.
        let t = if t.is_relative() {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(t)
        } else {
            t.to_path_buf()
        };
        dirs.push(wheel_lib(&t));
    }
    dirs
}

/// Makes libnvrtc loadable by the name cudarc looks for. cudarc dlopens by library name only,
/// and the pip wheels' folder is not on the loader's path; once a library with the soname
/// `libnvrtc.so.13` is loaded, dlopen of that name resolves to it. libnvrtc in turn loads its
/// builtins library by name, so that one is preloaded too. The handles are kept for the whole
/// process, as cudarc keeps its own.
pub fn load_nvrtc() -> Result<()> {
    static LOADED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            // SAFETY: is_culib_present only tries dlopen on cudarc's candidate names.
            if unsafe { cudarc::nvrtc::sys::is_culib_present() } {
                return Ok(());
            }
            let mut tried = Vec::new();
            for dir in candidate_dirs() {
                let nvrtc = dir.join("libnvrtc.so.13");
                tried.push(nvrtc.display().to_string());
                if !nvrtc.exists() {
                    continue;
                }
                for lib in ["libnvrtc-builtins.so.13.0", "libnvrtc.so.13"] {
                    // SAFETY: loading the NVIDIA libraries runs only their own initialisers.
                    match unsafe { libloading::Library::new(dir.join(lib)) } {
                        Ok(l) => std::mem::forget(l),
                        Err(e) => return Err(format!("loading {}: {e}", dir.join(lib).display())),
                    }
                }
                return Ok(());
            }
            Err(format!(
                "libnvrtc not found on the loader path nor at {tried:?}; set ENGINE_CUDA_LIB_DIR"
            ))
        })
        .clone()
        .map_err(Error::Cuda)
}
