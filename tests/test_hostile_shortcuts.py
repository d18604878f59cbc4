"""Students who hand in torch's own LSTM cell for the from-scratch task, graded for real.

Chapter 4's Task 2 asks for an LSTM cell written by hand (3 points). Each submission below solves
every other task honestly and hides ``torch.nn.LSTMCell`` or the kernel behind it in a different
way. Each must lose exactly the 3 points of that task, and nothing else."""

import json

import pytest
from conftest import coursetools as ct

AID = "04_lstm_gru"
TASK, TASK_POINTS = "my_lstm_cell", 3

_PARAMS = '''
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        for p in self.parameters():
            nn.init.uniform_(p, -hidden_size**-0.5, hidden_size**-0.5)
'''
_ZEROS = '''
        if hx is None:
            z = input.new_zeros(input.shape[0], self.hidden_size)
            hx = (z, z)
'''
CHEATS = {
    # inherits torch's forward (and its parameters)
    "subclass": "class MyLSTMCell(nn.LSTMCell):\n    pass\n",
    # the ATen kernel, its name assembled at run time so that no source check can see it
    "getattr_kernel": ("class MyLSTMCell(nn.Module):" + _PARAMS + "\n    def forward(self, input, hx=None):"
                       + _ZEROS + "        kernel = getattr(torch, 'lstm' + '_cell')\n"
                       "        return kernel(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)\n"),
    # the private dispatcher behind torch.lstm_cell
    "private_vf": ("import torch._VF as _kernels\n\nclass MyLSTMCell(nn.Module):" + _PARAMS
                   + "\n    def forward(self, input, hx=None):" + _ZEROS
                   + "        return _kernels.lstm_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)\n"),
    # our own parameters, torch's forward borrowed as an unbound function
    "borrowed_forward": ("class MyLSTMCell(nn.Module):" + _PARAMS
                         + "\n    def forward(self, input, hx=None):\n"
                         "        return nn.LSTMCell.forward(self, input, hx)\n"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    root = ct.make_course(tmp_path_factory.mktemp("shortcuts"), [AID])
    solved_path = root / "solved.ipynb"
    solved_path.write_text(ct.generate(root, AID).read_text())
    ct.fill_solutions(solved_path, AID)
    solved = json.loads(solved_path.read_text())
    ct.submit(root, "honest", AID, json.dumps(solved).encode())
    for name, code in CHEATS.items():
        nb = json.loads(json.dumps(solved))
        cells = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == TASK]
        assert len(cells) == 1
        cells[0]["source"] = code
        ct.submit(root, name, AID, json.dumps(nb).encode())
    report = {row["student"]: row for row in ct.grade(root, AID)}
    return {"report": report, "total": ct.points_after_solutions(AID, 10**6)}


@pytest.mark.slow
def test_the_honest_submission_gets_everything(graded):
    assert graded["report"]["honest"]["score"] == graded["total"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CHEATS))
def test_a_library_cell_earns_nothing_for_the_from_scratch_task(graded, name):
    row = graded["report"][name]
    assert row["score"] == graded["total"] - TASK_POINTS, row
