"""prefect.yaml and flows/ agree: every flow file has a deployment, every deployment a real flow."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FLOWS = ROOT / "flows"


def _config() -> dict:
    return yaml.safe_load((ROOT / "prefect.yaml").read_text())


def _deployments() -> list[dict]:
    return _config()["deployments"]


def _flow_functions(path: Path) -> list[str]:
    """Names of the functions decorated with @flow(...) in a file, found without importing it."""
    names = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            for dec in node.decorator_list:
                target = dec.func if isinstance(dec, ast.Call) else dec
                if getattr(target, "id", getattr(target, "attr", None)) == "flow":
                    names.append(node.name)
    return names


def _flow_files() -> list[Path]:
    return sorted(p for p in FLOWS.glob("*.py") if p.name != "__init__.py")


def test_every_flow_file_holds_one_flow_and_has_a_deployment():
    entrypoints = {d["entrypoint"] for d in _deployments()}
    files = _flow_files()
    assert files, "flows/ holds no flow files"
    for path in files:
        flows = _flow_functions(path)
        assert len(flows) == 1, f"{path.name} must define exactly one @flow, found {flows}"
        entry = f"flows/{path.name}:{flows[0]}"
        assert entry in entrypoints, f"{entry} has no deployment in prefect.yaml"


@pytest.mark.parametrize("deployment", _deployments(), ids=lambda d: d["name"])
def test_every_deployment_points_at_an_existing_flow_with_its_parameters(deployment):
    from prefect.flows import load_flow_from_entrypoint

    file_part, func = deployment["entrypoint"].split(":")
    assert (ROOT / file_part).is_file(), f"{deployment['name']}: no file {file_part}"
    assert func in _flow_functions(ROOT / file_part)
    flow = load_flow_from_entrypoint(str(ROOT / deployment["entrypoint"]))
    accepted = set(inspect.signature(flow.fn).parameters)
    given = set(deployment.get("parameters") or {})
    assert given <= accepted, f"{deployment['name']}: unknown parameters {given - accepted}"
    # Every parameter is written down in the deployment, so the UI shows each default.
    assert accepted == given, f"{deployment['name']}: parameters missing from prefect.yaml: {accepted - given}"


def test_deployment_names_are_unique_and_pools_are_process_pools():
    deployments = _deployments()
    names = [(d["entrypoint"].split(":")[1], d["name"]) for d in deployments]
    assert len(names) == len(set(names))
    for d in deployments:
        assert d["work_pool"]["name"] == "soldsight"
        env = d["work_pool"]["job_variables"]["env"]
        assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false" and env["DO_NOT_TRACK"] == "1"


def test_refresh_runs_nightly_on_a_valid_cron_in_a_real_timezone():
    from prefect.client.schemas.schedules import CronSchedule

    refresh = [d for d in _deployments() if d["entrypoint"] == "flows/refresh.py:refresh"]
    assert len(refresh) == 1
    schedules = refresh[0]["schedules"]
    assert len(schedules) == 1
    sched = schedules[0]
    cron = CronSchedule(cron=sched["cron"], timezone=sched["timezone"])  # raises on a bad cron or zone
    ZoneInfo(cron.timezone)
    minute, hour, dom, month, dow = sched["cron"].split()
    assert (dom, month, dow) == ("*", "*", "*"), "the refresh runs every night"
    assert minute.isdigit() and hour.isdigit(), "once a night, at one fixed time"
    assert refresh[0].get("concurrency_limit") == 1, "two refreshes never overlap"


def test_the_schedule_is_configured_in_one_place():
    """The time and zone live in definitions.schedules.nightly; the deployment refers to it."""
    text = (ROOT / "prefect.yaml").read_text()
    assert "nightly: &nightly" in text and "- *nightly" in text
    config = _config()
    refresh = next(d for d in config["deployments"] if d["entrypoint"] == "flows/refresh.py:refresh")
    assert config["definitions"]["schedules"]["nightly"] == refresh["schedules"][0]
