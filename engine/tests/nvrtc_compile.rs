//! Every CUDA kernel module compiles to PTX with NVRTC: the hand-written families and the
//! module of every op table row. Needs libnvrtc (found beside the torch wheel through
//! `LIBTORCH`, or in `ENGINE_CUDA_LIB_DIR`) but no GPU, so a kernel that does not compile
//! fails the ordinary test run.

use engine::cuda::kernels;
use engine::kernel::BinaryKernel;
use engine::ops::table::{BINARY_ROWS, COMPARE_ROWS, UNARY_ROWS};

/// The PTX of a module body, or the NVRTC log as the panic message.
fn ptx(name: &str, body: &str) -> String {
    kernels::compile_source(name, &kernels::with_prelude(body))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .to_src()
}

/// The body of the PTX entry `name` (up to the next entry).
fn entry<'a>(ptx: &'a str, name: &str) -> Option<&'a str> {
    let start = ptx.find(&format!(".entry {name}("))?;
    let rest = &ptx[start + 1..];
    let end = rest.find(".entry ").map_or(rest.len(), |e| e);
    Some(&rest[..end])
}

/// Whether PTX converts a float to a double (a float expression computed in double).
fn promotes(body: &str) -> bool {
    body.contains("cvt.f64.f32")
}

#[test]
fn every_kernel_module_compiles_to_ptx() {
    let mut failures = Vec::new();
    for (name, _) in kernels::MODULES {
        match kernels::compile(name) {
            Ok(ptx) => {
                let text = ptx.to_src();
                let src = kernels::source(name).unwrap();
                assert!(text.contains(".entry"), "{name}: PTX has no entry points");
                let declared = src.matches("__global__").count();
                assert!(declared > 0, "{name}: no kernels declared");
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "kernels failed to compile:\n{}",
        failures.join("\n")
    );
}

/// The launch wrappers in `cuda::ops` name the hand-written kernels by `<op>_<dtype>`; every
/// such name must be an entry of the module it is looked up in, or the call would fail only
/// on a GPU.
#[test]
fn kernels_called_from_rust_exist_in_ptx() {
    let expect: &[(&str, &[&str])] = &[
        ("clamp", &["clamp_f32", "clamp_f64"]),
        (
            "select",
            &["where_f32", "where_f64", "where_i64", "where_bool"],
        ),
        (
            "reduce",
            &[
                "sum_f32",
                "sum_f64",
                "sum_i64",
                "max_f32",
                "min_f64",
                "max_i64",
                "softmax_f32",
                "softmax_f64",
            ],
        ),
        (
            "copy",
            &[
                "fill_f32",
                "fill_bool",
                "strided_copy_f64",
                "strided_copy_bool",
                "strided_write_i64",
                "cast_f32_f64",
                "cast_bool_f32",
                "cast_f64_i64",
                "cast_i64_bool",
            ],
        ),
        ("index", &["index_select_f32", "index_add_f64"]),
        ("conv", &["im2col_f32", "col2im_f64"]),
    ];
    for (module, names) in expect {
        let ptx = kernels::compile(module).unwrap_or_else(|e| panic!("{module}: {e}"));
        let text = ptx.to_src();
        for n in *names {
            assert!(
                text.contains(&format!(".entry {n}(")),
                "{module}.cu has no kernel {n}"
            );
        }
    }
}

/// Every unary row's module compiles and has the entries its `Storage` dispatch launches:
/// `<name>_f32`, `<name>_f64`, `<name>_i64` for rows with an int kernel, and the backward's
/// `<name>_backward_f32`/`_f64`. The float entries convert no float to double (the
/// expression stayed in `T`; CUDA's own `sinf` may still use doubles inside).
#[test]
fn every_unary_row_compiles_with_its_entries() {
    assert!(UNARY_ROWS.len() >= 12);
    for row in UNARY_ROWS {
        let text = ptx(row.name, row.cuda);
        let mut entries = vec![
            format!("{}_f32", row.name),
            format!("{}_f64", row.name),
            format!("{}_backward_f32", row.name),
            format!("{}_backward_f64", row.name),
        ];
        if row.int {
            entries.push(format!("{}_i64", row.name));
        }
        for e in &entries {
            let body = entry(&text, e).unwrap_or_else(|| panic!("{}: no entry {e}", row.name));
            if e.ends_with("_f32") {
                assert!(!promotes(body), "{e} computes in double:\n{body}");
            }
        }
        // No int entry that the dispatch would not call (nor a missing one it would).
        assert_eq!(
            text.contains(&format!(".entry {}_i64(", row.name)),
            row.int,
            "{}",
            row.name
        );
    }
}

/// The binary and comparison rows: every dtype the row claims is an entry.
#[test]
fn every_binary_and_comparison_row_compiles_with_its_entries() {
    for row in BINARY_ROWS.iter().chain(COMPARE_ROWS) {
        let text = ptx(row.name, row.cuda);
        for (dtype, claimed) in [
            ("f32", true),
            ("f64", true),
            ("i64", row.int),
            ("bool", row.bool),
        ] {
            let e = format!(".entry {}_{dtype}(", row.name);
            assert_eq!(text.contains(&e), claimed, "{}: {dtype}", row.name);
        }
        if let Some(body) = entry(&text, &format!("{}_f32", row.name)) {
            assert!(!promotes(body), "{}_f32 computes in double", row.name);
        }
    }
    assert_eq!(COMPARE_ROWS.len(), 6);
}

/// The kernel the CUDA compositions add with (bias, weight-gradient sums) compiles too.
#[test]
fn the_accumulate_kernel_compiles() {
    use engine::cuda::storage::Accumulate;
    let text = ptx(Accumulate::MODULE, Accumulate::CUDA);
    assert!(entry(&text, "accumulate_f32").is_some() && entry(&text, "accumulate_f64").is_some());
}

/// The check has teeth: a kernel with a type error is reported as a failure, not skipped, and
/// so is a row expression that does not compile.
#[test]
fn a_broken_kernel_is_an_error() {
    let src = format!(
        "{}\nextern \"C\" __global__ void bad(float *x) {{ x[0] = undefined_name; }}",
        kernels::source("copy").unwrap()
    );
    let e = kernels::compile_source("broken", &src).unwrap_err();
    assert!(e.to_string().contains("broken.cu"), "{e}");
    let row = kernels::with_prelude("UNARY_FLOAT(bad, x, no_such_function(x))\n");
    assert!(kernels::compile_source("bad_row", &row).is_err());
}

/// The f32-stays-f32 check has teeth: a double literal in an expression promotes `x`.
#[test]
fn a_double_literal_in_a_float_kernel_is_seen() {
    let text = ptx("promoting", "UNARY_FLOAT(promoting, x, x * 0.1)\n");
    assert!(promotes(entry(&text, "promoting_f32").unwrap()));
    let text = ptx("staying", "UNARY_FLOAT(staying, x, x * (T)0.1)\n");
    assert!(!promotes(entry(&text, "staying_f32").unwrap()));
}
