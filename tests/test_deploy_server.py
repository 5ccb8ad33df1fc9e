"""A real local Prefect server, `prefect deploy --all`, and a real process worker running a deployment."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
PREFECT = str(Path(sys.executable).with_name("prefect"))

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(prefect_home: Path, api_url: str, soldsight_home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SOLDSIGHT_"))}
    env.update(PREFECT_HOME=str(prefect_home), PREFECT_API_URL=api_url, PREFECT_SERVER_ANALYTICS_ENABLED="false",
               DO_NOT_TRACK="1", SOLDSIGHT_HOME=str(soldsight_home), TF_CPP_MIN_LOG_LEVEL="2",
               PREFECT_UI_ENABLED="false",
               # As docs/orchestration.md starts the server: short retry hints for concurrency slots.
               PREFECT_SERVER_CONCURRENCY_MAXIMUM_CONCURRENCY_SLOT_WAIT_SECONDS="1")
    return env


def _stop(proc: subprocess.Popen, signals: list[int], wait: float = 20.0) -> None:
    """Send each signal in turn (a worker needs SIGINT twice), then SIGKILL the process group."""
    for sig in signals:
        if proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=wait / len(signals))
        except subprocess.TimeoutExpired:
            continue
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    else:  # the process is gone; its flow-run children must not outlive it
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _run(cmd: list[str], env: dict, timeout: float = 120) -> str:
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(cmd)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


@pytest.fixture
def prefect_server(tmp_path):
    """`prefect server start` on a free port with PREFECT_HOME in tmp; stopped (and checked stopped) after."""
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = _env(tmp_path / "prefect", api, tmp_path / "home")
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{api}/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "server not healthy after 90 s"
            time.sleep(0.5)
        yield env, api
    finally:
        _stop(proc, [signal.SIGTERM])
        log.close()
        assert proc.poll() is not None


def _flow_runs(api: str, deployment_id: str) -> list[dict]:
    body = {"deployments": {"id": {"any_": [deployment_id]}}, "limit": 50}
    return requests.post(f"{api}/flow_runs/filter", json=body, timeout=10).json()


def test_deploy_all_and_a_process_worker_runs_the_refresh(prefect_server, tmp_path):
    env, api = prefect_server
    _run([PREFECT, "work-pool", "create", "soldsight", "--type", "process"], env)
    _run([PREFECT, "--no-prompt", "deploy", "--all"], env)

    deployments = requests.post(f"{api}/deployments/filter", json={}, timeout=10).json()
    by_name = {(d["name"]): d for d in deployments}
    assert set(by_name) == {"nightly", "inbox"}
    nightly = by_name["nightly"]
    assert nightly["schedules"][0]["schedule"]["cron"] == "30 2 * * *"
    assert nightly["work_pool_name"] == "soldsight"

    # The scheduler creates the next nightly runs (this broke with SQLAlchemy 2.1, see FACTS.md).
    deadline = time.monotonic() + 60
    while not [r for r in _flow_runs(api, nightly["id"]) if r["state_type"] == "SCHEDULED"]:
        assert time.monotonic() < deadline, "no scheduled run was created for the nightly cron"
        time.sleep(1)

    home = tmp_path / "run-home"
    out = _run([PREFECT, "deployment", "run", "refresh/nightly", "--param", f"home={home}"], env)
    run_id = next(line.split("UUID:")[1].strip() for line in out.splitlines() if "UUID:" in line)

    log = open(tmp_path / "worker.log", "w")
    worker = subprocess.Popen([PREFECT, "worker", "start", "--pool", "soldsight", "--limit", "1"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                run = requests.get(f"{api}/flow_runs/{run_id}", timeout=10).json()
            except requests.Timeout:
                # The server shares the two cores with the run it tracks (TensorFlow, the price fit), and
                # once went over 10 s for one answer in CI; only the run's own deadline is the test.
                assert time.monotonic() < deadline, "the server stopped answering"
                continue
            if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                break
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            assert time.monotonic() < deadline, f"run still {run['state_type']} after 240 s"
            time.sleep(1)
    finally:
        _stop(worker, [signal.SIGINT, signal.SIGINT])
        log.close()
    assert worker.poll() is not None
    assert run["state_type"] == "COMPLETED", (tmp_path / "worker.log").read_text()[-3000:]

    # The worker ran our code in our home: the run left its record in that warehouse.
    con = duckdb.connect(str(home / "soldsight.duckdb"), read_only=True)
    rows = con.execute("SELECT flow, status, stages FROM pipeline_runs WHERE run_id = ?", [run_id]).fetchall()
    con.close()
    assert len(rows) == 1 and rows[0][0] == "refresh"
    assert {s["stage"] for s in json.loads(rows[0][2])} >= {"ingest", "download", "embed", "load"}

    # The run's artifacts reached the server: the summary table is there.
    arts = requests.post(f"{api}/artifacts/filter",
                         json={"artifacts": {"flow_run_id": {"any_": [run_id]}}}, timeout=10).json()
    assert "refresh-summary" in {a["key"] for a in arts}
