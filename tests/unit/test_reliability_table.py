"""The reliability figures' table (docs/reliability.md) from a session's report."""

from pigeon_tools import reliability

REPORT = {
    "when": "2026-11-30",
    "faults_survived": 14,
    "ids_checked": 30_000,
    "ids_lost": 0,
    "duplicates_after_retry": 12,
    "bad_inputs_tried": 10_000,
    "load": {
        "ids": 10_000,
        "events": 2080,
        "invokers": 4,
        "seconds": 5.0,
        "ids_per_second": 2000,
        "lost": 0,
        "duplicated": 0,
    },
    "secret_scan": {"texts": 100, "secrets": 8, "leaks": 0},
    "cluster": {
        "cases": {
            "node killed mid-event": {
                "ids": 400,
                "lost": 0,
                "duplicates": 3,
                "failover_seconds": 1.5,
            },
            "10,000 ids, 4 invokers, a node restarted": {
                "ids": 10_000,
                "lost": 0,
                "duplicates": 0,
                "invocations": 2090,
                "failed_invocations": 10,
                "seconds": 8.0,
            },
        }
    },
}


def test_a_session_without_the_cluster_figures_is_not_complete():
    assert reliability.complete(REPORT)
    assert not reliability.complete({k: v for k, v in REPORT.items() if k != "cluster"})


def test_each_cluster_case_is_a_row():
    table = reliability.table(REPORT)
    assert (
        "| cluster: node killed mid-event | 400 ids, 0 lost, 3 duplicates, failed over in 1.5 s |"
        in table
    )
    assert "2,090 invocations (10 failed and retried) in 8.0 s" in table
