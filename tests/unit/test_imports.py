"""Import smoke tests: the Prefect server works with the pinned FastAPI; the CLI stays light."""

from __future__ import annotations

import subprocess
import sys


def test_prefect_server_app_builds_with_the_pinned_fastapi():
    """prefect 3.8 breaks with FastAPI >= 0.151 (Body(min_items=...)): building its app proves the pin."""
    from prefect.server.api.server import create_api_app

    assert create_api_app() is not None


def test_every_flow_imports():
    from pilotzones.flows.candidates import candidate_selection, publish_candidates
    from pilotzones.flows.evaluation import evaluation_stage, publish_evaluation

    names = {f.name for f in (candidate_selection, publish_candidates, evaluation_stage, publish_evaluation)}
    assert names == {"candidate-selection", "publish-candidates", "evaluation-stage", "publish-evaluation"}


def test_submit_and_status_do_not_load_prefect_or_great_expectations_eagerly():
    """`submit` and `status` must not start or even import the orchestration stack."""
    code = (
        "import sys, pilotzones.cli.main, pilotzones.intake.submit, pilotzones.cli.status, pilotzones.store.home;"
        "bad = [m for m in ('prefect', 'great_expectations') if m in sys.modules];"
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
