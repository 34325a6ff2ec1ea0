"""The worker's circuit per target (backoffice/sync/circuit.py), on a clock the tests move."""

import pytest

from backoffice.sync import reports
from backoffice.sync.circuit import CLOSED, OPENED, Circuit, Circuits
from backoffice.sync.http.errors import UpstreamConnectionError, UpstreamInvalid, UpstreamRateLimited

DOWN = UpstreamConnectionError("Connection refused")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def circuit_settings(settings):
    settings.QWOTY_CIRCUIT_FAILURES = 3
    settings.QWOTY_RETRY_BASE_SECONDS = 1.0
    settings.QWOTY_CIRCUIT_MAX_SECONDS = 8.0


def opened(failure=DOWN) -> tuple[Clock, Circuit]:
    """A circuit just opened by three failures in a row, and its clock."""
    clock = Clock()
    circuit = Circuit("qwoty", clock=clock)
    for _ in range(3):
        circuit.reported(failure)
    assert circuit.open
    return clock, circuit


def test_it_opens_after_the_set_number_of_failures_in_a_row_and_an_answer_between_resets_the_count():
    circuit = Circuit("qwoty", clock=Clock())
    assert [circuit.reported(DOWN), circuit.reported(DOWN), circuit.reported(None)] == [None, None, None]
    assert [circuit.reported(DOWN), circuit.reported(DOWN)] == [None, None]
    assert not circuit.open
    assert circuit.reported(DOWN) == OPENED
    assert circuit.open


def test_a_push_reports_a_refusal_of_its_record_as_an_answer_and_a_target_down_as_a_failure():
    with reports.reporting() as report:
        reports.called("qwoty", UpstreamInvalid("name is required", status=422))
    assert (report.target, report.failure) == ("qwoty", None)
    with reports.reporting() as report:
        reports.called("qwoty", DOWN)
    assert (report.target, report.failure) == ("qwoty", DOWN)
    reports.called("qwoty", DOWN)  # outside a worker nobody listens: nothing breaks
    assert reports.current() is None


def test_an_open_circuit_lets_one_probe_through_after_a_backoff_that_grows_up_to_its_cap():
    clock = Clock()
    circuit = Circuit("qwoty", clock=clock)
    for _ in range(3):
        circuit.reported(DOWN)
    waits = []
    for _ in range(6):
        opened_at = clock.now
        assert not circuit.probe_due()
        while not circuit.probe_due():
            clock.now += 0.01
        waits.append(clock.now - opened_at)
        circuit.start_probe()
        assert not circuit.probe_due()  # one probe at a time
        clock.now += 100
        assert not circuit.probe_due()
        assert circuit.reported(DOWN) is None  # the probe failed: still open
        circuit.end_probe()
    # Equal jitter: the n-th wait is between half and all of min(cap, base x 2^(n-1)).
    ceilings = [1, 2, 4, 8, 8, 8]
    assert all(ceiling / 2 - 0.01 <= wait <= ceiling + 0.01 for wait, ceiling in zip(waits, ceilings, strict=True))


def test_failures_of_pushes_already_in_flight_do_not_push_the_probe_back():
    _, circuit = opened()
    probe_at = circuit.probe_at
    for _ in range(10):
        circuit.reported(DOWN)
    assert circuit.probe_at == probe_at


def test_a_probe_that_made_no_call_lets_the_next_task_through_at_once():
    clock, circuit = opened()
    clock.now += 10
    circuit.start_probe()
    circuit.end_probe()  # its record had nothing to send
    assert circuit.probe_due()


def test_the_first_answer_closes_it():
    clock, circuit = opened()
    clock.now += 10
    circuit.start_probe()
    assert circuit.reported(None) == CLOSED
    assert (circuit.open, circuit.probing, circuit.probe_due()) == (False, False, False)
    assert [circuit.reported(DOWN), circuit.reported(DOWN)] == [None, None]  # counting from zero again
    assert circuit.reported(DOWN) == OPENED
    assert circuit.probe_at - clock.now <= 1.0  # and backing off from the start again


def test_retry_after_holds_the_target_that_long_up_to_the_cap():
    clock, circuit = opened(UpstreamRateLimited("Too many requests", retry_after=5))
    assert circuit.probe_at - clock.now == pytest.approx(5)
    clock.now = circuit.probe_at
    circuit.start_probe()
    circuit.reported(UpstreamRateLimited("Too many requests", retry_after=3600))
    assert circuit.probe_at - clock.now == pytest.approx(8)


def test_a_target_is_never_held_longer_than_a_record_would_wait_for_its_retry(settings):
    settings.QWOTY_RETRY_MAX_SECONDS = 2.0
    clock, circuit = opened(UpstreamRateLimited("Too many requests", retry_after=3600))
    assert circuit.probe_at - clock.now == pytest.approx(2)


def test_circuits_hold_each_target_on_its_own_and_say_what_changed():
    clock = Clock()
    circuits = Circuits(clock=clock)

    def report(target, failure):
        return reports.Report(target=target, failure=failure)

    changes = [circuits.feed(report("koywe", DOWN)) for _ in range(3)]
    assert [change and (change.target, change.change) for change in changes] == [None, None, ("koywe", OPENED)]
    assert changes[-1].failure is DOWN
    circuits.feed(report("qwoty", DOWN))
    assert circuits.feed(reports.Report()) is None  # a task that called nobody (its record was not due)
    assert circuits.feed(None) is None  # a task that is not a push
    assert circuits.held() == ("koywe",)
    assert circuits.probes_due() == ()
    clock.now += 10
    assert circuits.probes_due() == ("koywe",)
    change = circuits.feed(report("koywe", None))
    assert (change.target, change.change, change.failure) == ("koywe", CLOSED, None)
    assert circuits.held() == ()
