"""The refresh flow end to end against the local world, with faults, under a Prefect test harness."""
from __future__ import annotations

import json

import duckdb

from tests.fixtures.orchestration import write_tiny_export

SECRETS = ("secret0", "secret1", "secret2", "secret3")


def _counts(settings) -> dict:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        out = {}
        for table in ("listings", "scrape_errors", "images", "embeddings", "ingested_files", "lake_files"):
            out[table] = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        out["images_ok"] = con.execute("SELECT count(*) FROM images WHERE status = 'ok'").fetchall()[0][0]
        out["embeddings_ok"] = con.execute("SELECT count(*) FROM embeddings WHERE status = 'ok'").fetchall()[0][0]
        out["error_reasons"] = [r[0] for r in con.execute("SELECT reason FROM scrape_errors").fetchall()]
        out["runs"] = con.execute("SELECT count(*) FROM pipeline_runs").fetchall()[0][0]
        return out
    finally:
        con.close()


def _artifacts_and_logs(run_id: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter, \
        FlowRunFilterParentFlowRunId, LogFilter, LogFilterFlowRunId

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])))
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
    return arts, logs


def test_refresh_end_to_end_with_faults_then_a_quiet_second_run(prefect_harness, refresh_env, world):
    from flows.refresh import refresh

    settings = refresh_env
    export = write_tiny_export(world, settings.inbox_exports)
    # Faults: one proxy dead, one flaky, a fifth of image requests answered 503 / reset once.
    world.proxies[0].set_mode("dead")
    world.proxies[1].set_mode("flaky", fail_rate=0.3)
    world.image_host.faults.set_rate("error", 0.15)
    world.image_host.faults.set_rate("reset", 0.05)

    first = refresh(home=str(settings.home))

    stages = {r["stage"]: r for r in first["stages"]}
    assert stages["ingest"]["done"] == export["listings"]
    assert stages["ingest"]["failed"] == export["scraper_errors"] == sum(stages["ingest"]["failures"].values())
    # Every recoverable photo arrived; the one that is not on the host failed for good.
    assert stages["download"]["done"] == export["photos"]
    assert stages["download"]["failed"] == export["missing"]
    assert stages["embed"]["done"] == export["photos"] and stages["embed"]["failed"] == 0
    assert first["status"] == "partial" and not first["nothing_new"]

    counts = _counts(settings)
    assert counts["listings"] == export["listings"]
    assert counts["scrape_errors"] == export["scraper_errors"]
    assert "Crawler error" in counts["error_reasons"][0]
    assert counts["images_ok"] == export["photos"]
    assert counts["embeddings_ok"] == export["photos"]
    assert counts["runs"] == 1

    arts, logs = _artifacts_and_logs(first["run_id"])
    keys = {a.key for a in arts}
    assert {"refresh-summary", "refresh-failures", "proxy-health", "download-progress"} <= keys
    if stages["embed"]["done"]:
        assert "embed-progress" in keys
    progress = [a for a in arts if a.key == "download-progress"]
    assert progress and float(progress[-1].data) == 100.0
    health = next(a for a in arts if a.key == "proxy-health")
    assert "***" in json.dumps(health.data)
    everything = json.dumps([a.data for a in arts]) + json.dumps([a.description for a in arts]) + \
        "\n".join(log.message for log in logs)
    for secret in SECRETS:
        assert secret not in everything, f"{secret} leaked into an artifact or a log"

    # Nothing new since: the second run does (almost) nothing, says so, and changes no counts.
    world.reset()
    second = refresh(home=str(settings.home))
    assert second["nothing_new"], second["stages"]
    again = {r["stage"]: r for r in second["stages"]}
    assert again["ingest"]["skipped"] == 1 and again["ingest"]["done"] == 0
    assert again["download"]["done"] == 0 and again["embed"]["done"] == 0
    after = _counts(settings)
    assert {k: v for k, v in after.items() if k != "runs"} == {k: v for k, v in counts.items() if k != "runs"}
    assert after["runs"] == 2
    assert world.image_host.counters.get("requests") == 0, "the quiet run fetched photos again"


def test_refresh_flow_refuses_bad_counts_before_it_runs(prefect_harness, tmp_path):
    import pytest
    from prefect.exceptions import ParameterTypeError

    from flows.refresh import refresh

    home = tmp_path / "home"
    for bad, said in [(dict(scrape_pages=0), "scrape_pages"), (dict(download_limit=-1), "download_limit")]:
        with pytest.raises(ParameterTypeError, match=said):
            refresh(home=str(home), exports=[], searches=[], **bad)
    assert not home.exists()
