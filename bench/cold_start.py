"""Cold import of each handler against `import boto3` plus one DynamoDB client (DESIGN.md).

Each measurement is a fresh interpreter, as a Lambda cold start is. Runs alternate between
the baseline and the handlers so that a noisy neighbour slows them alike; the budget is a
ratio within one run, never an absolute time.
"""

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_RATIO = 1.5
RUNS = 7

_TIMED = """
import time
started = time.perf_counter()
{statement}
print(time.perf_counter() - started)
"""

BASELINE = "import boto3; boto3.client('dynamodb', region_name='us-east-1')"
HANDLERS = {
    "authorize": "import authorize_handler",
    "token": "import token_handler",
    "admin": "import admin_handler",
}


def _path() -> str:
    dirs = [ROOT / "layers/common", *(ROOT / "functions" / name for name in HANDLERS)]
    return ":".join(str(d) for d in dirs)


def measure(statement: str) -> float:
    result = subprocess.run(
        [sys.executable, "-c", _TIMED.format(statement=statement)],
        capture_output=True, text=True, check=True,
        env={"PYTHONPATH": _path(), "PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1",
             "PYTHONDONTWRITEBYTECODE": "1"},
    )
    return float(result.stdout.strip().splitlines()[-1])


def main() -> int:
    samples = {name: [] for name in ["baseline", *HANDLERS]}
    for _ in range(RUNS):
        samples["baseline"].append(measure(BASELINE))
        for name, statement in HANDLERS.items():
            samples[name].append(measure(statement))
    baseline = statistics.median(samples["baseline"])
    print(f"cold import, median of {RUNS} fresh interpreters (Python "
          f"{sys.version_info.major}.{sys.version_info.minor})")
    print(f"  {'boto3 + DynamoDB client':<24} {baseline * 1000:7.1f} ms   1.00x")
    over = False
    for name in HANDLERS:
        median = statistics.median(samples[name])
        ratio = median / baseline
        over |= ratio > BUDGET_RATIO
        mark = "" if ratio <= BUDGET_RATIO else f"  over the {BUDGET_RATIO}x budget"
        print(f"  {name + '_handler':<24} {median * 1000:7.1f} ms   {ratio:.2f}x{mark}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
