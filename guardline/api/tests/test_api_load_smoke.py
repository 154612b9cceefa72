"""The load benchmark of the live API (bench/bench_api.py), bounded: a small simulated county, gunicorn in a
subprocess, and the same open-loop generator for 3 s at 20 events/s. No timing is asserted (speed goals live in
bench/), only that every request succeeds and every event is stored and linked by its ID number."""

import pytest

from bench import bench_api

pytestmark = pytest.mark.slow


def test_open_loop_pushes_are_all_stored_and_linked(tmp_path):
    env = bench_api.prepare(tmp_path, households=300, say=lambda _: None)
    rate, seconds = 20, 3
    events = bench_api.load_events(tmp_path / "county", rate * seconds)
    assert len({e.record["证件号码"] for e in events}) == len(events)  # a different person each time
    tokens = bench_api.create_tokens(env, {e.department for e in events})
    server, port = bench_api.start_server(env, tmp_path, workers=1, threads=2)
    try:
        bench_api.warm_up(port, tokens, requests=8, concurrency=2)
        result = bench_api.run_load(port, events, tokens, rate=rate, seconds=seconds, concurrency=8)
    finally:
        bench_api.stop_server(server)
    assert result.errors == {}
    assert result.sent == result.ok == rate * seconds
    stored = bench_api.verify(tmp_path / "bench.sqlite3")
    assert stored["stored"] == stored["linked"] == stored["linked_by_id"] == result.ok
