"""Time forward+backward of course_lib.models.RNN/LSTM/GRU against torch.nn's.

Run from the repository root:

    .venv/bin/python benchmarks/bench_rnn.py             # full table, minutes on 2 cores
    .venv/bin/python benchmarks/bench_rnn.py --quick     # smoke run: fewer repeats, no large shape
    .venv/bin/python benchmarks/bench_rnn.py --loop      # add a column for fused=False (step loop)
    .venv/bin/python benchmarks/bench_rnn.py --ablation  # LSTM at the main shape, one idea at a time
    .venv/bin/python benchmarks/bench_rnn.py --threads 1 # pin torch to one CPU thread

For every device (CPU, and CUDA when available), cell type and shape, both models get the
same weights and the same input (float32, time-major (T, N, D), one layer, input without
gradient as in a first layer); one timed call is ``output.sum().backward()`` after zeroing the
gradients. The implementations take turns within each repeat (interleaved, the order
alternating), so a slow period on a shared machine hits all of them; the table reports
medians and the throughput ratio torch_time / our_time (1.0 = as fast as torch.nn, higher is
faster).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from course_lib.models import GRU, LSTM, RNN  # noqa: E402

# (name, N batch, T steps, D input, H hidden, repeats in a full run, repeats with --quick)
SHAPES = [
    ("small", 8, 20, 16, 32, 40, 10),
    ("main", 64, 100, 64, 256, 15, 5),
    ("large", 128, 200, 128, 512, 5, 0),  # 0: skipped by --quick
]
MODELS = {"RNN": (RNN, torch.nn.RNN), "LSTM": (LSTM, torch.nn.LSTM), "GRU": (GRU, torch.nn.GRU)}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_step(forward: Callable[[torch.Tensor], torch.Tensor], params: list, x: torch.Tensor):
    """One training-style call: clear the gradients, forward, backward of output.sum()."""

    def step() -> None:
        for p in params:
            p.grad = None
        forward(x).sum().backward()

    return step


def model_step(model: torch.nn.Module, x: torch.Tensor):
    return make_step(lambda inp: model(inp)[0], list(model.parameters()), x)


CLOCK = time.perf_counter  # --cpu-time switches to time.process_time


def time_interleaved(
    steps: dict[str, Callable[[], None]], repeats: int, warmup: int, device: torch.device
) -> dict[str, float]:
    """Median seconds per call of each step function, the calls interleaved."""
    names = list(steps)
    for _ in range(warmup):
        for name in names:
            steps[name]()
    _sync(device)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):  # alternate who goes first
            start = CLOCK()
            steps[name]()
            _sync(device)
            times[name].append(CLOCK() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def run_table(args: argparse.Namespace) -> None:
    """The main table: every device x model x shape, torch.nn against ours."""
    devices = [
        torch.device(d)
        for d in args.devices.split(",")
        if d == "cpu" or (d.startswith("cuda") and torch.cuda.is_available())
    ]
    header = (
        "| device | model | shape (N, T, D, H) | repeats | torch.nn ms | ours ms | ours/torch |"
    )
    sep = "| --- | --- | --- | ---: | ---: | ---: | ---: |"
    if args.loop:
        header += " loop ms | loop/torch |"
        sep += " ---: | ---: |"
    print(header)
    print(sep)
    for device in devices:
        for model_name in args.models.split(","):
            ours_cls, torch_cls = MODELS[model_name]
            for shape_name, N, T, D, H, full, quick in SHAPES:
                repeats = quick if args.quick else full
                if shape_name not in args.shapes.split(",") or repeats == 0:
                    continue
                torch.manual_seed(0)
                theirs = torch_cls(D, H).to(device)
                ours = ours_cls(D, H).to(device)
                ours.load_state_dict(theirs.state_dict())
                x = torch.randn(T, N, D, device=device)
                steps = {"torch": model_step(theirs, x), "ours": model_step(ours, x)}
                if args.loop:
                    loop = ours_cls(D, H, fused=False).to(device)
                    loop.load_state_dict(theirs.state_dict())
                    steps["loop"] = model_step(loop, x)
                warmup = 1 if shape_name == "large" else 2
                med = time_interleaved(steps, repeats, warmup, device)
                ms = {k: f"{v * 1e3:.1f}" for k, v in med.items()}
                row = f"| {device.type} | {model_name} | {shape_name} ({N}, {T}, {D}, {H}) | {repeats} "
                row += f"| {ms['torch']} | {ms['ours']} | {med['torch'] / med['ours']:.2f} |"
                if args.loop:
                    row += f" {ms['loop']} | {med['torch'] / med['loop']:.2f} |"
                print(row, flush=True)


# ----------------------------------------------------------------------------- ablation
def _hoisted_lstm(x, w_ih, w_hh, b_ih, b_hh, cell):
    """An autograd loop whose input projection is ONE matmul over all steps (idea 1 alone)."""
    N, H = x.shape[1], w_hh.shape[1]
    xp = F.linear(x, w_ih, b_ih + b_hh)  # (T, N, 4H) for all steps at once
    h = c = x.new_zeros(N, H)
    hs = []
    for xp_t in xp.unbind(0):  # not xp[t]: each xp[t]'s backward would allocate a (T, N, 4H) zero
        h, c = cell(xp_t, h, c, w_hh)
        hs.append(h)
    return torch.stack(hs)  # (T, N, H)


def _lstm_cell_after_projection(xp_t, h, c, w_hh):
    """The rest of one LSTM step once x_t W_ih^T + b is known: (N, 4H), (N, H) x 2 -> (N, H) x 2."""
    i, f, g, o = (xp_t + h @ w_hh.t()).chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def run_ablation(args: argparse.Namespace) -> None:
    """LSTM, main shape, CPU: what each idea of course_lib/models/fused.py buys."""
    _, N, T, D, H, full, quick = SHAPES[1]
    repeats = quick if args.quick else full
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(D, H)
    x = torch.randn(T, N, D)
    loop = LSTM(D, H, fused=False)
    ours = LSTM(D, H)
    for m in (loop, ours):
        m.load_state_dict(theirs.state_dict())
    p = [ours.weight_ih_l0, ours.weight_hh_l0, ours.bias_ih_l0, ours.bias_hh_l0]
    steps = {
        "torch.nn.LSTM": model_step(theirs, x),
        "step loop (fused=False): autograd records every op": model_step(loop, x),
        "+ input projection hoisted out of the loop": make_step(
            lambda inp: _hoisted_lstm(inp, *p, _lstm_cell_after_projection), p, x
        ),
        "+ hand-derived BPTT, in-place gate buffers (fused=True, default)": model_step(ours, x),
    }
    if args.compile:
        cell = torch.compile(_lstm_cell_after_projection, dynamic=False, fullgraph=True)
        start = time.perf_counter()
        make_step(lambda inp: _hoisted_lstm(inp, *p, cell), p, x)()
        print(
            f"torch.compile of the step: first call (compilation) {time.perf_counter() - start:.1f} s"
        )
        steps["hoisted + torch.compile'd step (autograd loop)"] = make_step(
            lambda inp: _hoisted_lstm(inp, *p, cell), p, x
        )
    med = time_interleaved(steps, repeats, 2, torch.device("cpu"))
    print(f"LSTM, CPU, float32, (N, T, D, H) = ({N}, {T}, {D}, {H}), median of {repeats}\n")
    print("| variant | ms | throughput vs torch.nn |")
    print("| --- | ---: | ---: |")
    for name, seconds in med.items():
        print(f"| {name} | {seconds * 1e3:.1f} | {med['torch.nn.LSTM'] / seconds:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, skip the large shape")
    parser.add_argument("--loop", action="store_true", help="also time fused=False (step loop)")
    parser.add_argument(
        "--devices", default="cpu,cuda", help="comma-separated; cuda only if present"
    )
    parser.add_argument("--models", default="RNN,LSTM,GRU", help="subset of RNN,LSTM,GRU")
    parser.add_argument("--shapes", default="small,main,large", help="subset of small,main,large")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--ablation", action="store_true", help="LSTM variants instead of the table"
    )
    parser.add_argument("--compile", action="store_true", help="with --ablation: add torch.compile")
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time CPU seconds of this process instead of wall-clock seconds (with --threads 1: "
        "what one core spends, unaffected by other programs taking turns on a shared machine)",
    )
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    global CLOCK
    if args.cpu_time:
        if torch.cuda.is_available() and "cuda" in args.devices:
            parser.error("--cpu-time measures CPU work only; add --devices cpu")
        CLOCK = time.process_time

    print(
        f"torch {torch.__version__}, Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, "
        f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}, "
        f"clock: {'process CPU time' if args.cpu_time else 'wall time'}"
    )
    if torch.cuda.is_available():
        print(f"CUDA device: {torch.cuda.get_device_name()}")
    if args.ablation:
        run_ablation(args)
        return
    print("float32, 1 layer, forward + backward of output.sum(); median over interleaved repeats;")
    print("ours/torch = throughput ratio (torch time / our time; above 1 means we are faster)\n")
    run_table(args)


if __name__ == "__main__":
    main()
