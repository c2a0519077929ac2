"""A scheduler process for the kill test: rounds every 50 ms on the test's file clock,
publishing through the recording publishers, until it is killed.

    python scheduler_child.py DATABASE_URL DATA_DIR CLOCK_FILE LOG_FILE
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from schedule_helpers import FileClock, recording_due_publish  # noqa: E402

from assistant.app.scheduler import Scheduler  # noqa: E402
from assistant.app.studio import Services  # noqa: E402
from assistant.config import Settings  # noqa: E402


def main() -> None:
    database_url, data_dir, clock_file, log_file = sys.argv[1:5]
    settings = Settings(_env_file=None, database_url=database_url,  # type: ignore[call-arg]
                        data_dir=Path(data_dir), weekly_report_at="",
                        scheduler_interval_s=0.05)
    svc = Services.create(settings)
    clock = FileClock(Path(clock_file))
    scheduler = Scheduler(svc, recording_due_publish(svc.repo, Path(log_file), clock),
                          clock=clock, read_metrics=lambda row: None, lease_ttl_s=5.0)
    print("ready", flush=True)
    scheduler.run_forever(threading.Event())


if __name__ == "__main__":
    main()
