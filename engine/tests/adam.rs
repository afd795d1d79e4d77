//! `Adam`: the parameters after each step, to the last float32 bit, against libtorch 2.13's own
//! tensor ops replaying `torch/optim/adam.py`'s `_single_tensor_adam` (lerp_, mul_, addcmul_,
//! sqrt, div, add_, addcdiv_ and maximum, run through tch 0.26); state, skipping, versions,
//! zero_grad and the constructor's messages.

use engine::optim::{Adam, AdamOptions};
use engine::{DType, Tensor};

const P0: [f32; 18] = [
    0.5, -1.0, 2.0, 0.25, -0.75, 1.5, 3.0, -2.0, 0.1, 0.9, -0.3, 1.2, 0.7, -1.1, 0.05, 2.5, -0.6,
    0.33,
];

fn grads(step: usize) -> Vec<f32> {
    (0..P0.len())
        .map(|i| (((i * 7 + step * 13) % 17) as f32 - 8.0) * 0.125)
        .collect()
}

fn run(o: AdamOptions) -> Vec<Vec<f64>> {
    let p = Tensor::from_vec(P0.to_vec(), &[P0.len()])
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let mut opt = Adam::new(vec![p.clone()], o).unwrap();
    (1..=3)
        .map(|step| {
            p.set_grad(Some(Tensor::from_vec(grads(step), &[P0.len()]).unwrap()))
                .unwrap();
            opt.step().unwrap();
            p.to_vec_f64()
        })
        .collect()
}

#[test]
fn default_adam_matches_libtorch_bits() {
    // Observed from libtorch 2.13.
    let want = [
        vec![
            0.49900001287460327,
            -0.9990000128746033,
            1.9989999532699585,
            0.25099998712539673,
            -0.7490000128746033,
            1.4989999532699585,
            3.000999927520752,
            -2.000999927520752,
            0.10100000351667404,
            0.8999999761581421,
            -0.3009999990463257,
            1.2010000944137573,
            0.6990000009536743,
            -1.0989999771118164,
            0.049000002443790436,
            2.499000072479248,
            -0.5990000367164612,
            0.3290000259876251,
        ],
        vec![
            0.49819695949554443,
            -0.9992761015892029,
            1.99905264377594,
            0.25117358565330505,
            -0.748138964176178,
            1.498128890991211,
            3.001965045928955,
            -2.0014002323150635,
            0.10102422535419464,
            0.9007441401481628,
            -0.30190908908843994,
            1.2019479274749756,
            0.6983299255371094,
            -1.0991291999816895,
            0.049494192004203796,
            2.498067855834961,
            -0.5980822443962097,
            0.3281969726085663,
        ],
        vec![
            0.4979862570762634,
            -0.9997220635414124,
            1.999647855758667,
            0.2512396275997162,
            -0.7483201026916504,
            1.4976797103881836,
            3.0023043155670166,
            -2.001025438308716,
            0.10090699046850204,
            0.9015727043151855,
            -0.30252256989479065,
            1.2021278142929077,
            0.6984158158302307,
            -1.0994219779968262,
            0.05023360997438431,
            2.497347354888916,
            -0.5980808734893799,
            0.3279862701892853,
        ],
    ];
    assert_eq!(run(AdamOptions::default()), want);
}

#[test]
fn weight_decay_and_amsgrad_match_libtorch_bits() {
    let o = AdamOptions {
        lr: 1e-2,
        weight_decay: 0.1,
        amsgrad: true,
        ..AdamOptions::default()
    };
    // Observed from libtorch 2.13.
    let want = [
        vec![
            0.49000000953674316,
            -0.9900000095367432,
            1.9900000095367432,
            0.25999999046325684,
            -0.7400000095367432,
            1.4900000095367432,
            3.009999990463257,
            -2.009999990463257,
            0.10999999940395355,
            0.8899999856948853,
            -0.3100000023841858,
            1.2100000381469727,
            0.6899999976158142,
            -1.090000033378601,
            0.04000000283122063,
            2.490000009536743,
            -0.5900000333786011,
            0.320000022649765,
        ],
        vec![
            0.4816533625125885,
            -0.9915993213653564,
            1.9841804504394531,
            0.26143816113471985,
            -0.7310031056404114,
            1.4808577299118042,
            3.0189969539642334,
            -2.006610870361328,
            0.11011306196451187,
            0.8958366513252258,
            -0.3190125823020935,
            1.2191952466964722,
            0.6824533343315125,
            -1.089948296546936,
            0.044808268547058105,
            2.480426788330078,
            -0.5806543827056885,
            0.3117547035217285,
        ],
        vec![
            0.4785267412662506,
            -0.9948607087135315,
            1.9862667322158813,
            0.26172322034835815,
            -0.7317396402359009,
            1.4744867086410522,
            3.0182604789733887,
            -1.9997098445892334,
            0.10878577083349228,
            0.9035279154777527,
            -0.3247946500778198,
            1.2192668914794922,
            0.6816343069076538,
            -1.0913480520248413,
            0.05215984210371971,
            2.4720590114593506,
            -0.5797836184501648,
            0.3089706599712372,
        ],
    ];
    assert_eq!(run(o), want);
}

#[test]
fn large_lerp_weight_matches_libtorch_bits() {
    // beta1 = 0.3: lerp's weight 0.7 takes its other formula.
    let o = AdamOptions {
        lr: 5e-2,
        betas: (0.3, 0.5),
        eps: 1e-3,
        ..AdamOptions::default()
    };
    // Observed from libtorch 2.13.
    let want = [
        vec![
            0.45007985830307007,
            -0.9500798583030701,
            1.9501992464065552,
            0.2999500632286072,
            -0.7003968358039856,
            1.4500665664672852,
            3.0499002933502197,
            -2.0498669147491455,
            0.14994291961193085,
            0.8999999761581421,
            -0.3499429225921631,
            1.2498670816421509,
            0.6500998139381409,
            -1.050066590309143,
            0.00039682537317276,
            2.450049877166748,
            -0.5501992106437683,
            0.2800798714160919,
        ],
        vec![
            0.4181138277053833,
            -0.9850476980209351,
            1.9770150184631348,
            0.28374895453453064,
            -0.6510525941848755,
            1.4119828939437866,
            3.100914716720581,
            -2.0478665828704834,
            0.12635375559329987,
            0.946990430355072,
            -0.3913796544075012,
            1.3006761074066162,
            0.6301835775375366,
            -1.0799560546875,
            0.041530344635248184,
            2.406597137451172,
            -0.49984514713287354,
            0.24811382591724396,
        ],
        vec![
            0.44502049684524536,
            -1.0234332084655762,
            2.025851249694824,
            0.2681843638420105,
            -0.6858277320861816,
            1.4225205183029175,
            3.0872855186462402,
            -2.0025205612182617,
            0.10062500834465027,
            0.998519778251648,
            -0.39735084772109985,
            1.2788993120193481,
            0.6688233017921448,
            -1.1131868362426758,
            0.09214888513088226,
            2.3879876136779785,
            -0.5287763476371765,
            0.2750204801559448,
        ],
    ];
    assert_eq!(run(o), want);
}

#[test]
fn state_skipping_versions_and_zero_grad() {
    let a = Tensor::from_vec(vec![1.0f64, 2.0], &[2])
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let b = Tensor::from_vec(vec![3.0f32], &[1])
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let mut opt = Adam::new(vec![a.clone(), b.clone()], AdamOptions::default()).unwrap();
    a.set_grad(Some(Tensor::from_vec(vec![0.5f64, -0.5], &[2]).unwrap()))
        .unwrap();
    opt.step().unwrap();
    // Only the parameter with a gradient moves and gets state; its update is one in-place op.
    assert_eq!(b.to_vec_f64(), [3.0]);
    assert_eq!((a.version(), b.version()), (1, 0));
    assert!(opt.state(1).is_none());
    let s = opt.state(0).unwrap();
    assert_eq!(
        (s.step.dtype(), s.step.to_vec_f64()),
        (DType::F32, vec![1.0])
    );
    assert!(s.max_exp_avg_sq.is_none());
    // The first step moves each parameter by lr against its gradient's sign.
    assert!((a.to_vec_f64()[0] - 0.999).abs() < 1e-9 && (a.to_vec_f64()[1] - 2.001).abs() < 1e-9);
    opt.zero_grad(false).unwrap();
    let g = a.grad_quiet().unwrap();
    assert_eq!((g.to_vec_f64(), g.version()), (vec![0.0, 0.0], 1));
    opt.zero_grad(true).unwrap();
    assert!(a.grad_quiet().is_none());
}

#[test]
fn constructor_messages() {
    let p = || {
        vec![
            Tensor::ones(&[1], DType::F32)
                .unwrap()
                .with_requires_grad(true)
                .unwrap(),
        ]
    };
    let e = |o: AdamOptions| Adam::new(p(), o).err().unwrap().to_string();
    let d = AdamOptions::default();
    // torch/optim/adam.py's messages (Python's float repr).
    assert_eq!(
        e(AdamOptions { lr: -0.1, ..d }),
        "Invalid learning rate: -0.1"
    );
    assert_eq!(
        e(AdamOptions { eps: -1e-8, ..d }),
        "Invalid epsilon value: -1e-08"
    );
    assert_eq!(
        e(AdamOptions {
            betas: (1.0, 0.999),
            ..d
        }),
        "Invalid beta parameter at index 0: 1.0"
    );
    assert_eq!(
        e(AdamOptions {
            betas: (0.9, -0.5),
            ..d
        }),
        "Invalid beta parameter at index 1: -0.5"
    );
    assert_eq!(
        e(AdamOptions {
            weight_decay: -1.0,
            ..d
        }),
        "Invalid weight_decay value: -1.0"
    );
    assert_eq!(
        Adam::new(vec![], d).err().unwrap().to_string(),
        "optimizer got an empty parameter list"
    );
    let nonleaf = p()[0].mul(2.0).unwrap();
    assert_eq!(
        Adam::new(vec![nonleaf], d).err().unwrap().to_string(),
        "can't optimize a non-leaf Tensor"
    );
}
