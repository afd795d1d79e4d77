//! `Tanh`, `Dropout` (functional with a given keep-mask, and the module), `batch_norm` and
//! `BatchNorm2d`: values (float32 bits), grad_fn names, graphs, running-stat updates, versions
//! and messages as observed from libtorch 2.13 (through tch 0.26 and the harness's shim), and
//! gradients against finite differences in f64.

mod support;
use engine::nn::{BatchNorm2d, Dropout, Module, Tanh, batch_norm};
use engine::{DType, Tensor};
use support::*;

fn f32s(v: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape).unwrap()
}
fn f32_leaf(v: &[f32], shape: &[usize]) -> Tensor {
    f32s(v, shape).with_requires_grad(true).unwrap()
}

#[test]
fn tanh_module() {
    let x = leaf(&[0.5, -1.0], &[2]);
    let y = Tanh.forward(&x).unwrap();
    assert_eq!(name(&y), Some("TanhBackward0"));
    assert_eq!(Tanh.repr(), "Tanh()");
}

#[test]
fn dropout_matches_libtorchs_cpu_kernel() {
    let x = f32_leaf(&[1., 2., 3., 4., 5., 6., 7., 8., 9., 10.], &[10]);
    // Outputs observed from libtorch 2.13 for these keep-masks (read off its outputs).
    let m03 = f32s(&[0., 0., 1., 0., 1., 0., 1., 1., 1., 1.], &[10]);
    let y = x.dropout_with_mask(0.3, true, Some(&m03)).unwrap();
    assert_eq!(
        y.to_vec_f64(),
        [
            0.0,
            0.0,
            4.285714149475098,
            0.0,
            7.142857551574707,
            0.0,
            10.0,
            11.428571701049805,
            12.85714340209961,
            14.285715103149414
        ]
    );
    assert_eq!(name(&y), Some("MulBackward0"));
    let m05 = bools(
        &[
            true, true, true, false, true, true, true, true, false, false,
        ],
        &[10],
    );
    let y = x.dropout_with_mask(0.5, true, Some(&m05)).unwrap();
    assert_eq!(y.to_vec_f64(), [2., 4., 6., 0., 10., 12., 14., 16., 0., 0.]);
    y.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(grad(&x).unwrap(), [2., 2., 2., 0., 2., 2., 2., 2., 0., 0.]);
    // p = 0, eval mode and empty inputs return the input itself.
    assert!(x.dropout_with_mask(0.0, true, None).unwrap().same(&x));
    assert!(x.dropout_with_mask(0.5, false, None).unwrap().same(&x));
    let e = Tensor::zeros(&[0], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    assert!(e.dropout_with_mask(0.5, true, None).unwrap().same(&e));
    // p = 1 multiplies by a zero scalar.
    let y = x.dropout_with_mask(1.0, true, None).unwrap();
    assert_eq!(
        (y.to_vec_f64(), name(&y)),
        (vec![0.0; 10], Some("MulBackward0"))
    );
    let d = leaf(&[1., 2.], &[2]);
    assert_eq!(
        d.dropout_with_mask(1.0, true, None).unwrap().to_vec_f64(),
        [0., 0.]
    );
    assert_eq!(
        d.dropout_with_mask(0.5, true, Some(&bools(&[true, false], &[2])))
            .unwrap()
            .to_vec_f64(),
        [2., 0.]
    );
    assert_eq!(
        err(x.dropout_with_mask(1.5, true, None)),
        "dropout probability has to be between 0 and 1, but got 1.5"
    );
    assert_eq!(
        err(x.dropout_with_mask(-0.1, false, None)),
        "dropout probability has to be between 0 and 1, but got -0.1"
    );
    assert_eq!(
        err(i64s(&[1, 2], &[2]).dropout_with_mask(0.5, true, Some(&bools(&[true, true], &[2])))),
        "result type Float can't be cast to the desired output type Long"
    );
}

#[test]
fn dropout_module() {
    let d = Dropout::new(0.5).unwrap();
    assert_eq!(d.repr(), "Dropout(p=0.5, inplace=False)");
    assert!(d.is_training());
    let x = leaf(&[1., 2., 3., 4.], &[4]);
    d.set_mask(bools(&[true, false, true, false], &[4]));
    let y = d.forward(&x).unwrap();
    assert_eq!(y.to_vec_f64(), [2., 0., 6., 0.]);
    // The mask is consumed by the forward that used it.
    assert!(err(d.forward(&x)).contains("needs the keep mask"));
    d.eval();
    assert!(!d.is_training());
    assert!(d.forward(&x).unwrap().same(&x));
    assert_eq!(
        Dropout::new(2.0).err().unwrap().to_string(),
        "dropout probability has to be between 0 and 1, but got 2.0"
    );
    gradcheck(
        |x| x[0].dropout_with_mask(0.25, true, Some(&bools(&[true, false, true], &[3]))),
        &[(&[0.5, -1.0, 2.0], &[3])],
    );
}

const XB: [f32; 16] = [
    1., 2., 3., 4., 5., 6., 7., 8., 2., 4., 6., 8., 1., 3., 5., 7.,
];

#[test]
fn batch_norm_training_matches_libtorch() {
    let x = f32_leaf(&XB, &[2, 2, 2, 2]);
    let w = f32_leaf(&[1., 1.], &[2]);
    let b = f32_leaf(&[0., 0.], &[2]);
    let (rm, rv) = (f32s(&[0., 0.], &[2]), f32s(&[1., 1.], &[2]));
    let y = x
        .batch_norm(Some(&w), Some(&b), Some(&rm), Some(&rv), true, 0.1, 1e-5)
        .unwrap();
    // Observed from libtorch 2.13: the running stats move without a version bump.
    assert_eq!(name(&y), Some("NativeBatchNormBackward0"));
    assert_eq!(rm.to_vec_f64(), [0.375, 0.5250000357627869]);
    assert_eq!(rv.to_vec_f64(), [1.4357142448425293, 1.4357142448425293]);
    assert_eq!((rm.version(), rv.version()), (0, 0));
    assert_eq!(
        y.to_vec_f64(),
        [
            -1.2701692581176758,
            -0.8082895278930664,
            -0.34640979766845703,
            0.11546993255615234,
            -0.11546993255615234,
            0.34640979766845703,
            0.8082895278930664,
            1.2701692581176758,
            -0.8082895278930664,
            0.11546993255615234,
            1.039229393005371,
            1.9629888534545898,
            -1.9629888534545898,
            -1.039229393005371,
            -0.11546993255615234,
            0.8082895278930664
        ]
    );
    y.mul(&y)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(grad(&w).unwrap(), [15.999966621398926, 15.999967575073242]);
    assert_eq!(grad(&b).unwrap(), [0., 0.]);
    let gx = grad(&x).unwrap();
    assert!(gx.iter().all(|g| g.abs() < 1e-5), "{gx:?}");

    let x = f32_leaf(&XB, &[2, 2, 2, 2]);
    let w = f32_leaf(&[1.5, 0.5], &[2]);
    let b = f32_leaf(&[0.1, -0.2], &[2]);
    let (rm, rv) = (f32s(&[0.5, -1.0], &[2]), f32s(&[2.0, 0.5], &[2]));
    let y = x
        .batch_norm(Some(&w), Some(&b), Some(&rm), Some(&rv), true, 0.1, 1e-5)
        .unwrap();
    assert_eq!(
        y.to_vec_f64(),
        [
            -1.8052539825439453,
            -1.1124343872070313,
            -0.4196147918701172,
            0.2732048034667969,
            -0.257735013961792,
            -0.026795148849487305,
            0.20414471626281738,
            0.43508458137512207,
            -1.1124343872070313,
            0.2732048034667969,
            1.658843994140625,
            3.044483184814453,
            -1.1814944744110107,
            -0.7196147441864014,
            -0.257735013961792,
            0.20414471626281738
        ]
    );
    assert_eq!(rm.to_vec_f64(), [0.824999988079071, -0.3749999403953552]);
    assert_eq!(rv.to_vec_f64(), [2.335714340209961, 0.985714316368103]);
    let g = f32s(
        &[
            0.5, -1., 2., 0.25, 1., 1., -0.5, 3., 0.1, 0.2, 0.3, 0.4, -1., -2., 1., 0.,
        ],
        &[2, 2, 2, 2],
    );
    y.mul(&g)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(
        grad(&x).unwrap(),
        [
            0.16858597099781036,
            -0.8925826549530029,
            1.1639368534088135,
            -0.07043664902448654,
            0.18398204445838928,
            0.08313851058483124,
            -0.36411482095718384,
            0.3433311879634857,
            -0.13048110902309418,
            -0.10507761687040329,
            -0.0796741396188736,
            -0.0542706660926342,
            0.1254764199256897,
            -0.3071505129337311,
            0.18398204445838928,
            -0.2486448734998703
        ]
    );
    assert_eq!(grad(&w).unwrap(), [0.5484821796417236, 7.5632805824279785]);
    assert_eq!(grad(&b).unwrap(), [2.75, 2.5]);

    // Evaluation, with the stats just updated.
    let x = f32_leaf(&XB, &[2, 2, 2, 2]);
    let w = f32_leaf(&[1.5, 0.5], &[2]);
    let b = f32_leaf(&[0.1, -0.2], &[2]);
    let y = x
        .batch_norm(Some(&w), Some(&b), Some(&rm), Some(&rv), false, 0.1, 1e-5)
        .unwrap();
    assert_eq!(name(&y), Some("NativeBatchNormBackward0"));
    assert_eq!(
        y.to_vec_f64(),
        [
            0.2717586159706116,
            1.2532362937927246,
            2.2347140312194824,
            3.2161917686462402,
            2.5068907737731934,
            3.010498285293579,
            3.514105796813965,
            4.01771354675293,
            1.2532362937927246,
            3.2161917686462402,
            5.179147243499756,
            7.1421027183532715,
            0.49246037006378174,
            1.4996755123138428,
            2.5068907737731934,
            3.514105796813965
        ]
    );
    assert_eq!(rm.to_vec_f64(), [0.824999988079071, -0.3749999403953552]);
    y.mul(&g)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(
        grad(&x).unwrap(),
        [
            0.4907388687133789,
            -0.9814777374267578,
            1.9629554748535156,
            0.24536943435668945,
            0.5036075711250305,
            0.5036075711250305,
            -0.25180378556251526,
            1.5108227729797363,
            0.09814777970314026,
            0.19629555940628052,
            0.2944433391094208,
            0.39259111881256104,
            -0.5036075711250305,
            -1.007215142250061,
            0.5036075711250305,
            0.0
        ]
    );
    assert_eq!(grad(&w).unwrap(), [6.040177822113037, 30.6571102142334]);
    assert_eq!(grad(&b).unwrap(), [2.75, 2.5]);
}

#[test]
fn batch_norm_variants_errors_and_gradcheck() {
    let x = f32_leaf(&XB, &[2, 2, 2, 2]);
    let (rm, rv) = (f32s(&[0., 0.], &[2]), f32s(&[1., 1.], &[2]));
    // Observed from libtorch 2.13.
    let y = x
        .batch_norm(None, None, Some(&rm), Some(&rv), true, 0.1, 1e-5)
        .unwrap();
    assert_eq!(name(&y), Some("NativeBatchNormBackward0"));
    let y = x
        .batch_norm(None, None, None, None, true, 0.1, 1e-5)
        .unwrap();
    assert_eq!(name(&y), Some("NativeBatchNormBackward0"));
    let y = f32s(&XB, &[2, 2, 2, 2])
        .batch_norm(
            Some(&f32_leaf(&[1., 1.], &[2])),
            None,
            Some(&rm),
            Some(&rv),
            true,
            0.1,
            1e-5,
        )
        .unwrap();
    assert_eq!(name(&y), Some("NativeBatchNormBackward0"));
    let y = f32s(&XB, &[2, 2, 2, 2])
        .batch_norm(None, None, Some(&rm), Some(&rv), true, 0.1, 1e-5)
        .unwrap();
    assert_eq!(name(&y), None);
    assert_eq!(
        err(x.batch_norm(None, None, None, None, false, 0.1, 1e-5)),
        "running_mean must be defined in evaluation mode"
    );
    assert_eq!(
        err(x.batch_norm(
            Some(&f32s(&[1., 1., 1.], &[3])),
            None,
            Some(&rm),
            Some(&rv),
            true,
            0.1,
            1e-5
        )),
        "weight should contain 2 elements not 3"
    );
    let d = leaf(&[1., 2., 3., 4., 5., 6., 7., 8.], &[2, 2, 2]);
    let y = d
        .batch_norm(None, None, None, None, true, 0.1, 1e-5)
        .unwrap();
    assert!(close(
        &y.to_vec_f64(),
        &[
            -1.2126766985040354,
            -0.7276060191024213,
            -1.2126766985040356,
            -0.7276060191024214,
            0.7276060191024212,
            1.2126766985040351,
            0.727606019102421,
            1.2126766985040351
        ],
        1e-15
    ));
    // The input is saved.
    let y = x.mul(1.0).unwrap();
    let out = y
        .batch_norm(None, None, Some(&rm), Some(&rv), true, 0.1, 1e-5)
        .unwrap();
    y.mul_(2.0).unwrap();
    assert!(
        err(out.sum(None, false).unwrap().backward())
            .contains("is at version 1; expected version 0 instead")
    );
    let v: Vec<f64> = (0..24).map(|i| ((i * 7) % 11) as f64 * 0.3 - 1.2).collect();
    for training in [true, false] {
        gradcheck(
            move |x| {
                let (rm, rv) = (t64(&[0.1, -0.2], &[2]), t64(&[1.5, 0.7], &[2]));
                x[0].batch_norm(
                    Some(&x[1]),
                    Some(&x[2]),
                    Some(&rm),
                    Some(&rv),
                    training,
                    0.1,
                    1e-5,
                )
            },
            &[
                (&v, &[3, 2, 2, 2]),
                (&[1.3, 0.6], &[2]),
                (&[0.2, -0.4], &[2]),
            ],
        );
    }
}

#[test]
fn batch_norm2d_module() {
    let bn = BatchNorm2d::new(2, 1e-5, Some(0.1), true, true).unwrap();
    assert_eq!(
        bn.repr(),
        "BatchNorm2d(2, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    );
    let names: Vec<String> = bn.named_parameters().into_iter().map(|p| p.0).collect();
    assert_eq!(names, ["weight", "bias"]);
    let buffers = bn.named_buffers();
    let names: Vec<&str> = buffers.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(
        names,
        ["running_mean", "running_var", "num_batches_tracked"]
    );
    // reset_parameters fills every tensor in place after allocation.
    for t in bn.parameters().iter().chain(bn.buffers().iter()) {
        assert_eq!(t.version(), 1);
    }
    assert_eq!(bn.num_batches_tracked.as_ref().unwrap().dtype(), DType::I64);
    let x = f32_leaf(&XB, &[2, 2, 2, 2]);
    let y = bn.forward(&x).unwrap();
    assert_eq!(name(&y), Some("NativeBatchNormBackward0"));
    let rm = bn.running_mean.as_ref().unwrap();
    // The same update as the functional call above (observed from libtorch 2.13).
    assert_eq!(rm.to_vec_f64(), [0.375, 0.5250000357627869]);
    let nbt = bn.num_batches_tracked.as_ref().unwrap();
    assert_eq!((nbt.to_vec_f64(), nbt.version()), (vec![1.], 2));
    bn.eval();
    let y = bn.forward(&x).unwrap();
    assert_eq!(nbt.to_vec_f64(), [1.]);
    assert_eq!(name(&y), Some("NativeBatchNormBackward0"));
    assert_eq!(
        err(bn.forward(&f32_leaf(&[1., 2.], &[1, 2]))),
        "expected 4D input (got 2D input)"
    );
    bn.train(true);
    assert_eq!(
        err(bn.forward(&f32_leaf(&[1., 2.], &[1, 2, 1, 1]))),
        "Expected more than 1 value per channel when training, got input size torch.Size([1, 2, 1, 1])"
    );
    assert_eq!(
        err(batch_norm(
            &f32_leaf(&[1., 2.], &[1, 2, 1, 1]),
            None,
            None,
            None,
            None,
            true,
            0.1,
            1e-5
        )),
        "Expected more than 1 value per channel when training, got input size torch.Size([1, 2, 1, 1])"
    );
    // Cumulative average when momentum is None.
    let bn = BatchNorm2d::new(2, 1e-5, None, false, true).unwrap();
    assert!(bn.parameters().is_empty());
    bn.forward(&f32s(&XB, &[2, 2, 2, 2])).unwrap();
    assert_eq!(bn.running_mean.as_ref().unwrap().to_vec_f64(), [3.75, 5.25]);
    let bn = BatchNorm2d::new(2, 1e-5, Some(0.1), true, false).unwrap();
    assert!(bn.buffers().is_empty());
    bn.eval();
    assert_eq!(
        name(&bn.forward(&x).unwrap()),
        Some("NativeBatchNormBackward0")
    );
}
