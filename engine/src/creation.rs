//! Factory functions: `full`/`zeros`/`ones`, `arange`, `linspace`, `eye`, and `rand`/`randn`
//! from a seeded generator.

use crate::error::{Error, Result};
use crate::storage::CpuStorage;
use crate::tensor::Tensor;
use crate::{DType, Scalar};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded random generator (`torch.Generator` with `manual_seed`).
pub struct Generator(ChaCha8Rng);

impl Generator {
    pub fn new(seed: u64) -> Self {
        Generator(ChaCha8Rng::seed_from_u64(seed))
    }
    fn uniform(&mut self) -> f64 {
        self.0.random::<f64>()
    }
    /// Box–Muller; one normal per call keeps the sequence easy to reason about.
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

impl Tensor {
    pub fn full(shape: &[usize], value: impl Into<Scalar>, dtype: DType) -> Result<Tensor> {
        let n: usize = shape.iter().product();
        let v = value.into().as_f64();
        let s = match dtype {
            DType::F32 => CpuStorage::F32(vec![v as f32; n]),
            DType::F64 => CpuStorage::F64(vec![v; n]),
            DType::I64 => CpuStorage::I64(vec![v as i64; n]),
            DType::Bool => CpuStorage::Bool(vec![v != 0.0; n]),
            d => CpuStorage::from_f64(d, std::iter::repeat_n(v, n)),
        };
        Tensor::from_storage(s, shape)
    }
    pub fn zeros(shape: &[usize], dtype: DType) -> Result<Tensor> {
        Tensor::full(shape, Scalar::Int(0), dtype)
    }
    pub fn ones(shape: &[usize], dtype: DType) -> Result<Tensor> {
        Tensor::full(shape, Scalar::Int(1), dtype)
    }

    /// `arange(start, end, step)`: `ceil((end - start) / step)` elements, computed in f64.
    pub fn arange(start: f64, end: f64, step: f64, dtype: DType) -> Result<Tensor> {
        if step == 0.0 {
            return Err(Error::InvalidArgument("step must be nonzero".into()));
        }
        if (step > 0.0 && end < start) || (step < 0.0 && end > start) {
            return Err(Error::InvalidArgument(
                "upper bound and lower bound inconsistent with step sign".into(),
            ));
        }
        let len = ((end - start) / step).ceil();
        if !start.is_finite() || !end.is_finite() || !len.is_finite() || len > i64::MAX as f64 {
            return Err(Error::InvalidArgument(format!(
                "unsupported range: {start} -> {end}"
            )));
        }
        let n = len.max(0.0) as usize;
        let vals: Vec<f64> = (0..n).map(|i| start + i as f64 * step).collect();
        Tensor::from_f64(&vals, &[n], dtype)
    }

    /// `linspace(start, end, steps)`, symmetric from both ends as libtorch's CPU kernel.
    pub fn linspace(start: f64, end: f64, steps: usize, dtype: DType) -> Result<Tensor> {
        fn go<T: num_traits::Float>(start: f64, end: f64, steps: usize) -> Vec<f64> {
            let (s, e) = (T::from(start).unwrap(), T::from(end).unwrap());
            match steps {
                0 => return Vec::new(),
                1 => return vec![start],
                _ => {}
            }
            let step = (e - s) / T::from(steps - 1).unwrap();
            let half = steps / 2;
            (0..steps)
                .map(|i| {
                    let v = if i < half {
                        s + step * T::from(i).unwrap()
                    } else {
                        e - step * T::from(steps - i - 1).unwrap()
                    };
                    v.to_f64().unwrap()
                })
                .collect()
        }
        let vals = match dtype {
            DType::F32 => go::<f32>(start, end, steps),
            _ => go::<f64>(start, end, steps),
        };
        Tensor::from_f64(&vals, &[steps], dtype)
    }

    pub fn eye(n: usize, m: usize, dtype: DType) -> Result<Tensor> {
        let mut v = vec![0f64; n * m];
        for i in 0..n.min(m) {
            v[i * m + i] = 1.0;
        }
        Tensor::from_f64(&v, &[n, m], dtype)
    }

    /// Uniform on [0, 1).
    pub fn rand(shape: &[usize], dtype: DType, g: &mut Generator) -> Result<Tensor> {
        Self::random(shape, dtype, "check_uniform_bounds", || g.uniform())
    }

    /// Standard normal.
    pub fn randn(shape: &[usize], dtype: DType, g: &mut Generator) -> Result<Tensor> {
        Self::random(shape, dtype, "normal_kernel_cpu", || g.normal())
    }

    fn random(
        shape: &[usize],
        dtype: DType,
        op: &'static str,
        mut f: impl FnMut() -> f64,
    ) -> Result<Tensor> {
        if !dtype.is_float() {
            return Err(Error::DtypeNotSupported {
                op,
                dtype: dtype.scalar_type_name(),
            });
        }
        let n: usize = shape.iter().product();
        let vals: Vec<f64> = (0..n).map(|_| f()).collect();
        Tensor::from_f64(&vals, shape, dtype)
    }
}
