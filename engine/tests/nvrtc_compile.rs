//! Every CUDA kernel module compiles to PTX with NVRTC. Needs libnvrtc (found beside the torch
//! wheel through `LIBTORCH`, or in `ENGINE_CUDA_LIB_DIR`) but no GPU, so a kernel that does not
//! compile fails the ordinary test run.

use engine::cuda::kernels;

#[test]
fn every_kernel_module_compiles_to_ptx() {
    let mut failures = Vec::new();
    for (name, _) in kernels::MODULES {
        match kernels::compile(name) {
            Ok(ptx) => {
                let text = ptx.to_src();
                // Each `extern "C" __global__` in the source must come out as a PTX entry.
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

/// The launch wrappers in `cuda::ops` name kernels by `<op>_<dtype>`; every such name must be
/// an entry of the module it is looked up in, or the call would fail only on a GPU.
#[test]
fn kernels_called_from_rust_exist_in_ptx() {
    let expect: &[(&str, &[&str])] = &[
        (
            "unary",
            &[
                "neg_f32",
                "exp_f32",
                "log_f64",
                "sqrt_f64",
                "sin_f32",
                "cos_f64",
                "tanh_f32",
                "sigmoid_f64",
                "reciprocal_f32",
                "abs_i64",
                "relu_f32",
                "sgn_f64",
                "neg_i64",
                "clamp_f32",
                "clamp_f64",
            ],
        ),
        (
            "binary",
            &[
                "add_f32",
                "sub_f64",
                "mul_i64",
                "div_f32",
                "pow_f64",
                "maximum_f32",
                "minimum_i64",
                "eq_bool",
                "ne_bool",
                "lt_f32",
                "ge_i64",
                "where_f32",
                "where_bool",
            ],
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

/// The check has teeth: a kernel with a type error is reported as a failure, not skipped.
#[test]
fn a_broken_kernel_is_an_error() {
    let src = format!(
        "{}\nextern \"C\" __global__ void bad(float *x) {{ x[0] = undefined_name; }}",
        kernels::source("copy").unwrap()
    );
    let e = kernels::compile_source("broken", &src).unwrap_err();
    assert!(e.to_string().contains("broken.cu"), "{e}");
}
