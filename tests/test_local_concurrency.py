"""The local stack runs each function in execution environments of its own, as Lambda does:
worker processes started on demand, one event at a time each, side by side."""

import json
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from local.environments import PooledFunction
from local.events import HttpRequest
from local.functions import functions_from_template
from local.gateway import Gateway, RouteTable
from local.resources import local_resolver
from local.routes import Route
from tests.processes import is_running

# One fake function; the path says what it does, so that one worker serves every behaviour.
HANDLER = '''
import json, os, sys, time

invocations = 0  # module state: each execution environment counts its own


def handler(event, context):
    global invocations
    invocations += 1
    query = event.get("queryStringParameters") or {}
    time.sleep(float(query.get("sleep", 0)))
    action = event["rawPath"]
    if action == "/crash":
        os._exit(3)
    if action == "/boom":
        raise RuntimeError("boom")
    if action == "/print":
        print("hello from the handler")  # stdout: must not be taken for an answer
    body = {"pid": os.getpid(), "invocations": invocations, "cwd": os.getcwd(),
            "variable": os.environ.get("LOCAL_CONCURRENCY_TEST"),
            "stack_importable": any(p.endswith("/local") for p in sys.path)}
    return {"statusCode": 200, "body": json.dumps(body)}
'''

TEMPLATE = {"Resources": {"Fake": {"Type": "AWS::Serverless::Function",
                                   "Properties": {"CodeUri": "fake/",
                                                  "Handler": "fake_handler.handler"}}}}


def fake(root, **properties):
    """The fake function, its code under `root`, with `properties` added to the template's."""
    (root / "fake").mkdir()
    (root / "fake" / "fake_handler.py").write_text(textwrap.dedent(HANDLER))
    resource = TEMPLATE["Resources"]["Fake"]
    template = {"Resources": {"Fake": {
        **resource, "Properties": {**resource["Properties"], **properties}}}}
    return functions_from_template(template, local_resolver(template), root)["Fake"]


@pytest.fixture
def fake_function(tmp_path):
    return fake(tmp_path)


@pytest.fixture
def pool(fake_function):
    """The fake function in up to four worker processes; all of them stopped afterwards."""
    pool = PooledFunction(fake_function, concurrency=4)
    yield pool
    pool.close()


def _gateway(pool: PooledFunction, wait_s: float = 30) -> Gateway:
    return Gateway(RouteTable([Route("ANY /{proxy+}", "Fake")]), {"Fake": pool}, quiet=True,
                   wait_s=wait_s)


def _get(gateway: Gateway, target: str):
    return gateway.handle(HttpRequest("GET", target))


def _parallel(gateway: Gateway, targets: list[str]) -> list:
    with ThreadPoolExecutor(len(targets)) as executor:
        return list(executor.map(lambda target: _get(gateway, target), targets))


def _timed(action) -> tuple[float, object]:
    started = time.monotonic()
    outcome = action()
    return time.monotonic() - started, outcome



def test_parallel_requests_run_side_by_side(pool):
    gateway = _gateway(pool)
    one, _ = _timed(lambda: _get(gateway, "/sleep?sleep=1"))
    four, responses = _timed(lambda: _parallel(gateway, ["/sleep?sleep=1"] * 4))
    print(f"one request {one:.2f} s, four at once {four:.2f} s ({four / one:.2f}x)")
    assert [r.status for r in responses] == [200] * 4
    assert len({json.loads(r.body)["pid"] for r in responses}) == 4
    assert four < 2.5 * one  # one at a time, as before, would take four times as long


def test_module_state_is_per_environment_and_kept_while_warm(pool):
    gateway = _gateway(pool)
    first = [json.loads(r.body) for r in _parallel(gateway, ["/count?sleep=0.3"] * 3)]
    assert len({answer["pid"] for answer in first}) == 3
    assert [answer["invocations"] for answer in first] == [1, 1, 1]

    warm = json.loads(_get(gateway, "/count").body)
    assert warm["pid"] in {answer["pid"] for answer in first}
    assert warm["invocations"] == 2


def test_requests_beyond_the_cap_wait_for_a_free_environment(pool):
    gateway = _gateway(pool)
    responses = _parallel(gateway, ["/count?sleep=0.3"] * 8)
    assert [r.status for r in responses] == [200] * 8
    assert len({json.loads(r.body)["pid"] for r in responses}) == 4
    assert len(pool.pids) == 4


def test_worker_inherits_environment_and_runs_in_its_code_directory(tmp_path, pool,
                                                                    monkeypatch):
    monkeypatch.setenv("LOCAL_CONCURRENCY_TEST", "inherited")
    answer = json.loads(_get(_gateway(pool), "/env").body)
    assert answer["variable"] == "inherited"
    assert answer["cwd"] == str(tmp_path / "fake")
    assert answer["stack_importable"] is False


def test_handler_output_reaches_stderr_and_leaves_answers_intact(pool, capfd):
    response = _get(_gateway(pool), "/print")
    assert response.status == 200
    assert "hello from the handler" in capfd.readouterr().err


def test_handler_exception_is_bare_500_with_traceback_on_console(pool, capsys):
    response = _get(_gateway(pool), "/boom")
    assert (response.status, json.loads(response.body)) == (
        500, {"message": "Internal Server Error"})
    assert "RuntimeError: boom" in capsys.readouterr().err


def test_crashed_worker_is_replaced(pool, capsys):
    gateway = _gateway(pool)
    crashed = _get(gateway, "/crash")
    assert crashed.status == 500
    assert "Runtime exited with error: exit status 3" in capsys.readouterr().err

    answer = json.loads(_get(gateway, "/count").body)
    assert answer["invocations"] == 1  # a new environment, cold
    assert pool.pids == [answer["pid"]]


def test_late_handler_is_503_and_its_environment_is_reused_once_done(fake_function):
    pool = PooledFunction(fake_function, concurrency=1)
    try:
        late = _get(_gateway(pool, wait_s=0.2), "/count?sleep=1")
        assert (late.status, json.loads(late.body)) == (503, {"message": "Service Unavailable"})
        answer = json.loads(_get(_gateway(pool), "/count").body)  # waits for the late one
        assert answer["invocations"] == 2
    finally:
        pool.close()


def test_handler_past_its_timeout_is_stopped_and_answered_500(tmp_path, capsys):
    pool = PooledFunction(fake(tmp_path, Timeout=1), concurrency=1)
    try:
        gateway = _gateway(pool)
        took, late = _timed(lambda: _get(gateway, "/count?sleep=20"))
        assert (late.status, json.loads(late.body)) == (500, {"message": "Internal Server Error"})
        assert 1 <= took < 10
        assert "Task timed out after 1.00 seconds" in capsys.readouterr().err
        assert pool.pids == []  # Lambda does not keep an environment that ran out of time
        answer = json.loads(_get(gateway, "/count").body)
        assert answer["invocations"] == 1  # a new environment, cold
    finally:
        pool.close()


def test_close_stops_every_worker_busy_or_idle(pool):
    gateway = _gateway(pool)
    _parallel(gateway, ["/count?sleep=0.2"] * 3)
    busy = threading.Thread(target=_get, args=(gateway, "/count?sleep=20"))
    busy.start()
    time.sleep(0.3)
    pids = pool.pids
    assert len(pids) == 3

    closing, _ = _timed(pool.close)
    busy.join(5)
    assert not busy.is_alive()
    assert not [pid for pid in pids if is_running(pid)]
    assert closing < 5
    assert _get(gateway, "/count").status == 503  # a stopped function takes nothing more
