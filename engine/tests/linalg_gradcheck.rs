//! Linear algebra, conv2d and mse_loss gradients against central finite differences in f64
//! (gradcheck's eps 1e-6, atol 1e-5, rtol 1e-3) over random shapes, non-contiguous inputs and
//! conv hyper-parameters.

use engine::ops::linalg::{Conv2dOptions, Reduction};
use engine::{DType, Tensor};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const EPS: f64 = 1e-6;
const ATOL: f64 = 1e-5;
const RTOL: f64 = 1e-3;

/// How a test input reaches the op: as the leaf itself, or as a non-contiguous view of a
/// bigger or transposed leaf (the gradient then flows back through the view).
#[derive(Debug, Clone, Copy)]
enum Access {
    Plain,
    /// The leaf holds the last two dims swapped; the op sees `leaf.transpose(-2, -1)`.
    Transposed,
    /// The leaf is twice as long in dim 0; the op sees every other row.
    Strided,
}

fn access() -> impl Strategy<Value = Access> {
    prop_oneof![
        Just(Access::Plain),
        Just(Access::Transposed),
        Just(Access::Strided)
    ]
}

struct Input {
    shape: Vec<usize>,
    access: Access,
}

impl Input {
    fn leaf_shape(&self) -> Vec<usize> {
        let mut s = self.shape.clone();
        match self.access {
            Access::Plain => {}
            Access::Transposed if s.len() >= 2 => {
                let n = s.len();
                s.swap(n - 2, n - 1);
            }
            Access::Transposed => {}
            Access::Strided if !s.is_empty() => s[0] *= 2,
            Access::Strided => {}
        }
        s
    }
    fn view(&self, leaf: &Tensor) -> Tensor {
        match self.access {
            Access::Transposed if self.shape.len() >= 2 => leaf.transpose(-2, -1).unwrap(),
            Access::Strided if !self.shape.is_empty() => {
                let n0 = self.shape[0] * 2;
                leaf.slice(0, 0, n0, 2).unwrap()
            }
            _ => leaf.clone(),
        }
    }
}

fn inp(shape: &[usize], access: Access) -> Input {
    Input {
        shape: shape.to_vec(),
        access,
    }
}

/// Checks the analytic vector-Jacobian product of `f` at random inputs against central
/// differences: for a random cotangent `v`, `d(sum(f(x) * v)) / dx`.
fn gradcheck(
    inputs: &[Input],
    seed: u64,
    f: impl Fn(&[Tensor]) -> engine::Result<Tensor>,
) -> Result<(), TestCaseError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let values: Vec<Vec<f64>> = inputs
        .iter()
        .map(|i| {
            let n: usize = i.leaf_shape().iter().product();
            (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
        })
        .collect();
    let build = |vals: &[Vec<f64>], grad: bool| -> (Vec<Tensor>, Vec<Tensor>) {
        let leaves: Vec<Tensor> = inputs
            .iter()
            .zip(vals)
            .map(|(i, v)| {
                Tensor::from_f64(v, &i.leaf_shape(), DType::F64)
                    .unwrap()
                    .with_requires_grad(grad)
                    .unwrap()
            })
            .collect();
        let views = inputs.iter().zip(&leaves).map(|(i, l)| i.view(l)).collect();
        (leaves, views)
    };
    let (leaves, views) = build(&values, true);
    let out = f(&views).map_err(|e| TestCaseError::fail(format!("forward failed: {e}")))?;
    let cot: Vec<f64> = (0..out.numel())
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let cot_t = Tensor::from_f64(&cot, &out.shape(), DType::F64).unwrap();
    out.backward_with(Some(&cot_t), None, false)
        .map_err(|e| TestCaseError::fail(format!("backward failed: {e}")))?;
    let objective = |vals: &[Vec<f64>]| -> f64 {
        let _g = engine::no_grad();
        let (_, views) = build(vals, false);
        let y = f(&views).unwrap().to_vec_f64();
        y.iter().zip(&cot).map(|(a, b)| a * b).sum()
    };
    for (li, leaf) in leaves.iter().enumerate() {
        let analytic = leaf
            .grad()
            .map(|g| g.to_vec_f64())
            .unwrap_or_else(|| vec![0.0; values[li].len()]);
        let mut vals = values.clone();
        for j in 0..values[li].len() {
            vals[li][j] = values[li][j] + EPS;
            let hi = objective(&vals);
            vals[li][j] = values[li][j] - EPS;
            let lo = objective(&vals);
            vals[li][j] = values[li][j];
            let numeric = (hi - lo) / (2.0 * EPS);
            let a = analytic[j];
            prop_assert!(
                (a - numeric).abs() <= ATOL + RTOL * numeric.abs(),
                "input {li} element {j}: analytic {a} vs numeric {numeric}"
            );
        }
    }
    Ok(())
}

fn dim() -> impl Strategy<Value = usize> {
    1usize..4
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn gradcheck_mm(m in dim(), k in dim(), n in dim(), aa in access(), ab in access(), seed: u64) {
        gradcheck(&[inp(&[m, k], aa), inp(&[k, n], ab)], seed, |x| x[0].mm(&x[1]))?;
    }

    #[test]
    fn gradcheck_bmm(b in dim(), m in dim(), k in dim(), n in dim(), aa in access(), ab in access(), seed: u64) {
        gradcheck(&[inp(&[b, m, k], aa), inp(&[b, k, n], ab)], seed, |x| x[0].bmm(&x[1]))?;
    }

    #[test]
    fn gradcheck_mv_and_dot(m in dim(), k in dim(), aa in access(), ab in access(), seed: u64) {
        gradcheck(&[inp(&[m, k], aa), inp(&[k], ab)], seed, |x| x[0].mv(&x[1]))?;
        gradcheck(&[inp(&[k], aa), inp(&[k], ab)], seed, |x| x[0].dot(&x[1]))?;
    }

    /// Every `matmul` path: rank 1 to 4 on each side, broadcast batch dims (a size-1 batch
    /// dim on either side), inputs that do or do not need a gradient.
    #[test]
    fn gradcheck_matmul(
        ra in 1usize..5, rb in 1usize..5,
        n in dim(), k in dim(), p in dim(), b0 in dim(), b1 in dim(),
        ones in 0u8..4, aa in access(), ab in access(), frozen in 0u8..3, seed: u64,
    ) {
        let batch = |r: usize, one: bool| -> Vec<usize> {
            let mut v = vec![b1, b0];
            v.truncate(r.saturating_sub(2));
            if one && !v.is_empty() { v[0] = 1; }
            v.reverse();
            v
        };
        let mut sa = batch(ra, ones & 1 != 0);
        if ra >= 2 { sa.push(n); }
        sa.push(k);
        let mut sb = batch(rb, ones & 2 != 0);
        sb.push(k);
        if rb >= 2 { sb.push(p); }
        let mut ins = vec![inp(&sa, aa), inp(&sb, ab)];
        // A frozen operand enters as a constant: matmul then takes its no-grad paths.
        let frozen_idx = (frozen < 2).then_some(frozen as usize);
        let constant = frozen_idx.map(|i| {
            let c = Tensor::from_f64(&vec![0.5; ins[i].shape.iter().product()], &ins[i].shape, DType::F64).unwrap();
            ins.remove(i);
            (i, c)
        });
        gradcheck(&ins, seed, |x| {
            let (a, b) = match &constant {
                Some((0, c)) => (c.clone(), x[0].clone()),
                Some((_, c)) => (x[0].clone(), c.clone()),
                None => (x[0].clone(), x[1].clone()),
            };
            a.matmul(&b)
        })?;
    }

    #[test]
    fn gradcheck_linear(
        rank in 1usize..5, batch in dim(), fin in dim(), fout in dim(),
        bias in any::<bool>(), ax in access(), aw in access(), seed: u64,
    ) {
        let mut sx = vec![batch; rank - 1];
        sx.push(fin);
        let mut ins = vec![inp(&sx, ax), inp(&[fout, fin], aw)];
        if bias { ins.push(inp(&[fout], Access::Plain)); }
        gradcheck(&ins, seed, |x| x[0].linear(&x[1], x.get(2)))?;
    }

    #[test]
    fn gradcheck_conv2d(
        batch in 1usize..3, cg in 1usize..3, og in 1usize..3, groups in 1usize..4,
        h in 3usize..7, w in 3usize..7, kh in 1usize..4, kw in 1usize..4,
        sh in 1usize..3, sw in 1usize..3, ph in 0usize..2, pw in 0usize..2,
        dh in 1usize..3, dw in 1usize..3, bias in any::<bool>(), unbatched in any::<bool>(),
        ax in access(), seed: u64,
    ) {
        prop_assume!(h + 2 * ph > dh * (kh - 1) && w + 2 * pw > dw * (kw - 1));
        let opts = Conv2dOptions { stride: [sh, sw], padding: [ph, pw], dilation: [dh, dw], groups };
        let sx = if unbatched { vec![cg * groups, h, w] } else { vec![batch, cg * groups, h, w] };
        let mut ins = vec![inp(&sx, ax), inp(&[og * groups, cg, kh, kw], Access::Plain)];
        if bias { ins.push(inp(&[og * groups], Access::Plain)); }
        gradcheck(&ins, seed, |x| x[0].conv2d(&x[1], x.get(2), opts))?;
    }

    #[test]
    fn gradcheck_mse_loss(
        m in dim(), n in dim(), red in 0u8..3, bcast in any::<bool>(),
        ax in access(), at in access(), seed: u64,
    ) {
        let reduction = [Reduction::None, Reduction::Mean, Reduction::Sum][red as usize];
        let st = if bcast { vec![n] } else { vec![m, n] };
        gradcheck(&[inp(&[m, n], ax), inp(&st, at)], seed, |x| x[0].mse_loss(&x[1], reduction))?;
    }
}
