//! What the engine-vs-libtorch benches share: the workloads' input data and reading
//! criterion's estimates back for the ratio table each bench prints at the end.

use engine::{DType, Generator};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Seed 002's polynomial fit: initial weights and the number of SGD steps.
pub const POLY_W0: [f32; 3] = [0.1, -0.2, 0.3];
pub const POLY_B0: [f32; 1] = [0.05];
pub const POLY_STEPS: usize = 2000;

/// `n` values uniform in [-1, 1), the same bytes for both sides.
pub fn uniform(n: usize, seed: u64) -> Vec<f32> {
    let mut g = Generator::new(seed);
    engine::Tensor::rand(&[n], DType::F32, &mut g)
        .and_then(|t| t.to_vec::<f32>())
        .map(|v| v.into_iter().map(|u| 2.0 * u - 1.0).collect())
        .expect("rand of a float32 vector")
}

/// Seed 002's data: `[x, x², x³]` rows for 2000 points on [-π, π], and `sin x`.
pub fn polyfit_data() -> (Vec<f32>, Vec<f32>) {
    let n = 2000;
    let pi = std::f32::consts::PI;
    let x: Vec<f32> = (0..n)
        .map(|i| -pi + 2.0 * pi * i as f32 / (n - 1) as f32)
        .collect();
    let xx = x.iter().flat_map(|&v| [v, v * v, v * v * v]).collect();
    (xx, x.iter().map(|v| v.sin()).collect())
}

pub fn criterion_dir() -> PathBuf {
    if let Some(h) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(h);
    }
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(t).join("criterion");
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/criterion")
}

/// Criterion's mean estimate (ns) for one function, if it was measured during this run.
pub fn mean_ns(dir: &Path, group: &str, func: &str, since: SystemTime) -> Option<f64> {
    let path = dir.join(group).join(func).join("new/estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

pub fn fmt_time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.1} us", ns / 1e3)
    }
}

/// One libtorch step of seed 000's conv stack (`params` = conv1 weight, bias, conv2 weight,
/// bias): zero the gradients, forward, sum, backward. Both benches time this, on CPU or CUDA.
pub fn libtorch_conv_stack_step(params: &mut [tch::Tensor], input: &tch::Tensor) {
    for p in params.iter_mut() {
        p.zero_grad();
    }
    let [w1, b1, w2, b2] = [0, 1, 2, 3].map(|i| &params[i]);
    input
        .conv2d(w1, Some(b1), [1, 1], [0, 0], [1, 1], 1)
        .conv2d(w2, Some(b2), [1, 1], [0, 0], [1, 1], 1)
        .sum(tch::Kind::Float)
        .backward();
}
