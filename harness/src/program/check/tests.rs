//! The checker on the documents' idioms and on each kind of mistake, with its position.

use super::*;
use crate::program::parse;

fn first_error(src: &str) -> String {
    let p = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    match check_all(&p, Some(src)).into_iter().next() {
        Some(e) => e.to_string(),
        None => String::new(),
    }
}

#[test]
fn accepts_the_documents_idioms() {
    let ok = [
        "import torch\nfrom torch import nn, optim\nx = torch.ones(2, 2, requires_grad=True)\n\
         y = x + 2\nz = y * y * 3\nout = z.mean()\nout.backward()\nprint(x.grad)\n",
        "net = nn.Sequential(nn.Conv2d(3, 16, 3, 1), nn.Conv2d(16, 32, 3, 1))\n\
         for param in net.named_parameters():\n    param[1].requires_grad = False\n    print(param[0], param[1].requires_grad)\n\
         output = net(torch.randn(8, 3, 50, 100))\n",
        "model = nn.Sequential(nn.Linear(3, 1))\nfor param in model.parameters():\n    param.requires_grad = False\n\
         model.fc = nn.Linear(512, 100)\noptimizer = optim.SGD(model.fc.parameters(), lr=1e-2, momentum=0.9)\n",
        "import math\nx = torch.linspace(-math.pi, math.pi, 2000)\np = torch.tensor([1, 2, 3])\n\
         xx = x.unsqueeze(-1).pow(p)\nloss_fn = torch.nn.MSELoss(reduction='sum')\n\
         for t in range(2000):\n    y_pred = xx.sum(1)\n    loss = loss_fn(y_pred, x)\n    if t % 100 == 99:\n        print(t, loss.item())\n\
         with torch.no_grad():\n    for param in loss_fn.parameters():\n        param -= 1e-6 * param.grad\n",
        "s = sum([1, 2]) + max(1, 2) + abs(-1) + round(1.5)\nt = sum(torch.ones(2), dim=0)\n\
         x = torch.ones(1, requires_grad=True)\nx.data *= 100\nx.grad = None\nv = torch.tensor([[1.0, 0.1]], dtype=torch.float)\n\
         a = torch.ones((2, 2)).view((4,))\nb = x.view(-1)[0]\nfor name, p in nn.Linear(1, 1).named_parameters():\n    p.grad\n",
        "for t in range(3):\n    if t > 0:\n        print(prev)\n    prev = t\n",
    ];
    for src in ok {
        assert_eq!(first_error(src), "", "{src}");
    }
}

#[test]
fn reports_mistakes_with_positions() {
    let cases = [
        (
            "x = onez(2)\n",
            "1:5: unknown function 'onez' (did you mean 'ones'?)",
        ),
        (
            "x = torch.onez(2)\n",
            "1:11: unknown function 'onez' in module 'torch' (did you mean 'ones'?)",
        ),
        (
            "x = torch.ones(2)\nx.backwrd()\n",
            "2:3: unknown tensor method 'backwrd' (did you mean 'backward'?)",
        ),
        (
            "x = torch.ones(2)\ny = x.gard\n",
            "2:7: unknown tensor attribute 'gard'",
        ),
        (
            "y = x + 1\nx = 2\n",
            "1:5: name 'x' is used before it is assigned (first assigned on program line 2)",
        ),
        ("y = z + 1\n", "1:5: unknown name 'z'"),
        ("import numpy as np\n", "1:1: unknown module 'numpy'"),
        (
            "x = torch.ones(2, requires_gard=True)\n",
            "1:19: ones() got an unexpected keyword argument 'requires_gard'",
        ),
        (
            "x = torch.ones(2, requires_grad = 1)\n",
            "1:35: ones(): argument 'requires_grad' must be bool, found int",
        ),
        (
            "x = torch.ones(2).sum(dim='a')\n",
            "1:27: sum(): argument 'dim' must be int or sequence of ints, found str 'a'",
        ),
        (
            "x = torch.ones(2).view(2, 'a')\n",
            "1:27: view(): argument 'shape' must be int, found str 'a'",
        ),
        (
            "x = torch.ones(2.5)\n",
            "1:16: ones(): argument 'size' must be int, found float",
        ),
        (
            "x = torch.ones(2).transpose(0)\n",
            "1:28: transpose() missing required argument 'dim1'",
        ),
        (
            "x = torch.ones(2).t(0)\n",
            "1:21: t() takes 0 positional arguments but 1 were given",
        ),
        (
            "x = nn.Linear(2, 3)\nopt = optim.SGD(x.parameters(), lr=0.1)\nopt.stpe()\n",
            "3:5: unknown optimizer method 'stpe'",
        ),
        (
            "with torch.ones(2):\n    pass\n",
            "1:6: expected a grad-mode context",
        ),
        ("x = 1\nx.foo\n", "2:3: an int has no attribute 'foo'"),
        (
            "net = nn.Linear(2, 1)\ny = net(torch.ones(2))\ny.bakward()\n",
            "3:3: unknown tensor method 'bakward'",
        ),
    ];
    for (src, want) in cases {
        let got = first_error(src);
        assert!(got.starts_with(want), "{src:?}: got {got:?}, want {want:?}");
    }
}

#[test]
fn claims_see_names_assigned_by_their_line() {
    let p = parse("x = torch.ones(2)\ny = x * 2\n").unwrap();
    let claim = crate::program::parse_expr("y.grad_fn").unwrap();
    assert!(check_claim(&p, 2, &claim).is_ok());
    assert!(check_claim(&p, 1, &claim).is_err());
}
