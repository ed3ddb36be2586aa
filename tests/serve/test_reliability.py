"""The service under the failures an operator meets, each against a real server on 127.0.0.1:
killed with SIGKILL under load, a disk that fills up, a database that goes away, two worker
processes writing one chain, a folder reloaded while serving, and replay over a recorded run of
tens of thousands of decisions across two ruleset versions."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from engine.serve.app import Served, create_app
from engine.serve.audit import AuditStore
from engine.serve.catalog import Catalog
from tests.helpers import ROOT, invoke
from tests.serve.harness import STRONG_PAYER, Server, ServiceProcess, post_all, prepared_post

DECIDE = "/v1/rulesets/limit_review/decisions"


def _customer(index: int, as_of: str = "2026-12-15") -> dict:
    facts = json.loads(json.dumps(STRONG_PAYER))
    facts["customer"]["balance"] = 1_000 + index * 97 % 149_000
    facts["customer"]["behavior_score"] = 560 + index * 13 % 300
    return {"facts": facts, "as_of": as_of}


class Load:
    """Clients in threads sending decisions until stopped or the server is gone; ``answered``
    holds every 200's body."""

    def __init__(self, url: str, clients: int = 6) -> None:
        self.url, self.answered, self.stopping = url, [], threading.Event()
        self.threads = [threading.Thread(target=self._send, args=(n,)) for n in range(clients)]

    def _send(self, offset: int) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            index = offset
            while not self.stopping.is_set():
                try:
                    answer = client.post(DECIDE, json=_customer(index))
                except httpx.TransportError:
                    return  # the server is gone
                if answer.status_code == 200:
                    self.answered.append(answer.json())
                index += len(self.threads)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)


@pytest.fixture
def served_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "served"
    folder.mkdir()
    shutil.copy(ROOT / "rulesets/limit_review.rules", folder)
    return folder


def test_a_crash_under_load_loses_no_decision_that_was_answered(served_folder: Path,
                                                                 database: str) -> None:
    service = ServiceProcess(served_folder, "--db", database)
    service.wait_ready()
    with Load(service.url) as load:
        deadline = time.monotonic() + 60
        while len(load.answered) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        service.kill()  # SIGKILL: no shutdown, no flush, requests in flight
    assert len(load.answered) >= 300
    store = AuditStore(database, create=False)
    count, broken = store.verify_chain()
    assert broken is None and count >= len(load.answered)
    for answer in load.answered:
        record = store.get(answer["decision_id"])
        assert record is not None, answer["decision_id"]
        assert (record["decision"], record["reasons"]) == (
            answer["decision"], [reason["code"] for reason in answer["reasons"]])
    store.close()
    assert invoke("replay", "--db", database) == (
        0, f"{count:,} decisions replayed: {count:,} identical, 0 different\n")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB file system of its own (tmpfs), which the test can fill."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a small tmpfs needs root (CI runs as root): {done.stderr}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with filler.open("wb") as file:
        try:
            while True:
                file.write(b"\0" * 65_536)
                file.flush()
        except OSError:  # no space left: as intended
            pass
    return filler


def test_a_full_disk_is_answered_503_and_the_service_recovers(served_folder: Path,
                                                               small_disk: Path) -> None:
    database = str(small_disk / "audit.db")
    store = AuditStore(database)
    with Server(create_app(Catalog.load(served_folder), store)) as client:
        before = [client.post(DECIDE, json=_customer(n)) for n in range(20)]
        assert {answer.status_code for answer in before} == {200}
        filler = _fill(small_disk)
        during = [client.post(DECIDE, json=_customer(n)) for n in range(20, 120)]
        refused = [answer for answer in during if answer.status_code == 503]
        assert refused and {answer.status_code for answer in during} <= {200, 503}
        assert "the audit store refused the record (database or disk is full)" in \
            refused[0].json()["error"]
        filler.unlink()
        after = [client.post(DECIDE, json=_customer(n)) for n in range(120, 140)]
        assert {answer.status_code for answer in after} == {200}
    answered = [a.json()["decision_id"] for a in before + during + after if a.status_code == 200]
    store = AuditStore(database, create=False)
    assert store.verify_chain() == (len(answered), None)  # nothing half-written
    assert all(store.get(identifier) is not None for identifier in answered)
    store.close()


def test_a_database_that_goes_away_is_answered_503_and_the_service_reconnects(
        served_folder: Path, postgres) -> None:
    database = postgres.database()
    store = AuditStore(database)
    with Server(create_app(Catalog.load(served_folder), store)) as client:
        first = client.post(DECIDE, json=_customer(1))
        assert first.status_code == 200
        postgres.stop()
        try:
            gone = client.post(DECIDE, json=_customer(2))
            assert gone.status_code == 503
            assert gone.json()["error"].startswith("the audit store refused the record (")
            assert client.get(f"/v1/decisions/{first.json()['decision_id']}").status_code == 503
        finally:
            postgres.start()
        back = client.post(DECIDE, json=_customer(3))
        assert back.status_code == 200
        assert client.get(f"/v1/decisions/{back.json()['decision_id']}").status_code == 200
    store.close()
    assert AuditStore(database, create=False).verify_chain() == (2, None)


def test_two_worker_processes_write_one_chain(served_folder: Path, database: str) -> None:
    service = ServiceProcess(served_folder, "--db", database, "--workers", "2")
    try:
        service.wait_ready()
        port = int(service.url.rsplit(":", 1)[1])
        answers = post_all(port, [prepared_post(port, DECIDE, _customer(n)) for n in range(600)])
    finally:
        service.stop()
    assert {status for status, _ in answers} == {200}
    assert invoke("audit", "verify", "--db", database) == (0, "✓ 600 records, the chain holds\n")
    assert invoke("replay", "--db", database) == (
        0, "600 decisions replayed: 600 identical, 0 different\n")


def test_replay_is_identical_over_a_recorded_run_across_two_versions(versions: Path,
                                                                      tmp_path: Path) -> None:
    """20,000 decisions through the service, half decided by the 2026 version and half by the
    2027 one, all made again identically from the database alone."""
    database = str(tmp_path / "audit.db")
    service = ServiceProcess(versions, "--db", database)
    try:
        service.wait_ready()
        port = int(service.url.rsplit(":", 1)[1])
        requests = [prepared_post(port, DECIDE, _customer(n, "2026-12-20" if n % 2 else
                                                          "2027-01-10")) for n in range(20_000)]
        answers = post_all(port, requests)
    finally:
        service.stop()
    assert {status for status, _ in answers} == {200}
    versions_used = {json.loads(body)["ruleset"]["version"] for _, body in answers}
    assert versions_used == {"2026.12.1", "2027.1.0"}
    assert invoke("replay", "--db", database) == (
        0, "20,000 decisions replayed: 20,000 identical, 0 different\n")


def test_reload_keeps_the_old_set_until_the_new_one_passes(served_folder: Path,
                                                           tmp_path: Path) -> None:
    store = AuditStore(str(tmp_path / "audit.db"))
    rules = served_folder / "limit_review.rules"
    text = rules.read_text(encoding="utf-8")
    served = Served(Catalog.load(served_folder), lambda: Catalog.load(served_folder))
    with Server(create_app(served, store, token="s3cret")) as client:
        headers = {"authorization": "Bearer s3cret"}
        rules.write_text(text.replace("end\n", "", 1), encoding="utf-8")  # no longer parses
        refused = client.post("/v1/admin/reload", headers=headers)
        assert refused.status_code == 422
        assert refused.json()["error"] == ("the folder was not loaded; the rulesets served "
                                           "before keep serving")
        assert any("limit_review.rules" in p for p in refused.json()["problems"])
        answer = client.post(DECIDE, json=_customer(1), headers=headers)
        assert answer.json()["ruleset"]["version"] == "2026.12.1"
        rules.write_text(text.replace('version "2026.12.1"', 'version "2026.12.2"'),
                         encoding="utf-8")
        reloaded = client.post("/v1/admin/reload", headers=headers)
        assert reloaded.status_code == 200 and reloaded.json()["status"] == "reloaded"
        answer = client.post(DECIDE, json=_customer(1), headers=headers)
        assert answer.json()["ruleset"]["version"] == "2026.12.2"
    store.close()
    no_token = AuditStore(str(tmp_path / "other.db"))
    with Server(create_app(served, no_token)) as client:
        assert client.post("/v1/admin/reload").status_code == 404
    no_token.close()


def test_sighup_reloads_a_running_service(served_folder: Path, tmp_path: Path) -> None:
    rules = served_folder / "limit_review.rules"
    text = rules.read_text(encoding="utf-8")
    service = ServiceProcess(served_folder, "--db", str(tmp_path / "audit.db"))
    try:
        service.wait_ready()
        rules.write_text(text.replace("end\n", "", 1), encoding="utf-8")
        os.kill(service.process.pid, signal.SIGHUP)
        time.sleep(3)  # long enough to have loaded a folder that checks
        answer = httpx.post(service.url + DECIDE, json=_customer(1), timeout=10)
        assert answer.json()["ruleset"]["version"] == "2026.12.1"
        rules.write_text(text.replace('version "2026.12.1"', 'version "2026.12.2"'),
                         encoding="utf-8")
        os.kill(service.process.pid, signal.SIGHUP)
        deadline = time.monotonic() + 60
        version = None
        while version != "2026.12.2" and time.monotonic() < deadline:
            time.sleep(0.2)
            version = httpx.post(service.url + DECIDE, json=_customer(1),
                                 timeout=10).json()["ruleset"]["version"]
        assert version == "2026.12.2"
    finally:
        log = service.stop()
    assert "reload refused" in log and "reloaded: limit_review" in log
    assert "Traceback" not in log


def test_sighup_replaces_workers_only_with_a_folder_that_passes(served_folder: Path,
                                                                tmp_path: Path) -> None:
    rules = served_folder / "limit_review.rules"
    text = rules.read_text(encoding="utf-8")
    token = tmp_path / "token"
    token.write_text("s3cret\n", encoding="utf-8")
    service = ServiceProcess(served_folder, "--db", str(tmp_path / "audit.db"), "--workers", "2",
                             "--token-file", str(token))
    headers = {"authorization": "Bearer s3cret"}

    def versions_answering() -> set[str]:
        return {httpx.post(service.url + DECIDE, json=_customer(n), headers=headers,
                           timeout=10).json()["ruleset"]["version"] for n in range(20)}
    try:
        service.wait_ready()
        rules.write_text(text.replace("end\n", "", 1), encoding="utf-8")
        os.kill(service.process.pid, signal.SIGHUP)
        time.sleep(8)  # a replacement loads, fails its checks and exits; the old ones stay
        assert versions_answering() == {"2026.12.1"}
        refused = httpx.post(service.url + "/v1/admin/reload", headers=headers, timeout=60)
        assert refused.status_code == 422
        rules.write_text(text.replace('version "2026.12.1"', 'version "2026.12.2"'),
                         encoding="utf-8")
        accepted = httpx.post(service.url + "/v1/admin/reload", headers=headers, timeout=60)
        assert accepted.status_code == 202
        deadline = time.monotonic() + 90
        while versions_answering() != {"2026.12.2"} and time.monotonic() < deadline:
            time.sleep(0.5)
        assert versions_answering() == {"2026.12.2"}
    finally:
        log = service.stop()
    assert "reload refused" in log and "Traceback" not in log
