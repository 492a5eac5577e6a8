"""`make bench`: cold imports and warm requests in one report.

Exits non-zero when a budget of DESIGN.md is exceeded: a handler's cold import beyond 1.5
times boto3's, or a warm request making more AWS calls than allowed. Times are printed as
ratios within this run, since the machine is shared; only the ratios and counts are held.
"""

import sys

from bench import cold_start, flow


def main() -> int:
    imports = cold_start.main()
    print()
    requests = flow.main()
    return imports or requests


if __name__ == "__main__":
    sys.exit(main())
