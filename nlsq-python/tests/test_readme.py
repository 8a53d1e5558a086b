"""The README's Python examples work as pasted: each ```python block of its "From Python"
section runs as a script in a fresh interpreter and exits 0."""

import pathlib
import re
import subprocess
import sys

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def blocks():
    text = README.read_text()
    section = text[text.index("## From Python"):]
    section = section[:section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_readme_python_blocks_run(tmp_path):
    found = blocks()
    assert len(found) >= 2
    first = found[0].strip().splitlines()
    assert len(first) == 3, first  # the three-line example
    for i, code in enumerate(found):
        script = tmp_path / ("readme_%d.py" % i)
        script.write_text(code + "\nprint('ok')\n")
        out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip().endswith("ok")
        print(out.stdout)


def test_readme_example_finds_the_parameters(tmp_path):
    """The three-line example finds the parameters (exactly: the data are noise-free), by the
    translated path (its lambda's source is in a file)."""
    import numpy as np

    import nlsq_rs

    ns = {}
    script = tmp_path / "readme_first.py"
    script.write_text(blocks()[0])
    exec(compile(script.read_text(), str(script), "exec"), ns)
    np.testing.assert_allclose(ns["popt"], [2.5, 1.3, 0.5], rtol=1e-9)
    line = [s for s in blocks()[0].splitlines() if "lambda" in s][0]
    lam = tmp_path / "readme_lambda.py"
    lam.write_text("import numpy as np\nf = " + line[line.index("lambda"):line.rindex(", x, y)")])
    exec(compile(lam.read_text(), str(lam), "exec"), ns)
    assert nlsq_rs.translate(ns["f"]).params == ["a", "b", "c"]
