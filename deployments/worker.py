"""Start a process worker of the `pilotzones` pool once this machine is fit to run the stages.

    python -m pilotzones.deployments.worker [prefect worker start options...]

Checks first that PILOTZONES_HOME is the initialised shared home and that its programme file is
the one the state database (PILOTZONES_DATABASE_URL) was initialised with; refuses (exit 2, one
line naming both) otherwise. Every flow run checks the same again before its flow loads (the pull
step of prefect.yaml), since a mount can vanish while a worker runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pilotzones.errors import EXIT_USAGE, ConfigError
from pilotzones.settings import settings
from pilotzones.store.home import check_shared_home


def main(argv: list[str]) -> int:
    try:
        check_shared_home(settings().home)
    except ConfigError as exc:
        print(f"pilotzones: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # e.g. the state database cannot be reached: one line, no traceback
        print(f"pilotzones: 无法检查主目录 {settings().home}：{type(exc).__name__}", file=sys.stderr)
        return EXIT_USAGE
    prefect = str(Path(sys.executable).parent / "prefect")
    os.execv(prefect, [prefect, "worker", "start", "--pool", "pilotzones", *argv])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
