"""The onefs-mock command: ready lines, TLS with the written CA, clean exit on SIGTERM/SIGINT."""

import os
import signal
import subprocess
import sys

import pytest
import requests

pytestmark = pytest.mark.timeout(60)


def start(args):
    cmd = [sys.executable, "-m", "onefs_mock"] + args
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_ready(proc, count):
    """Read stdout lines until ``count`` ready lines arrived (bounded by the test timeout)."""
    lines = {}
    extra = {}
    while len(lines) < count:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError("onefs-mock exited early: %s" % proc.stderr.read())
        words = line.split()
        if words[0] == "ready":
            lines[words[1]] = words[2]
        else:
            extra[words[0]] = words[1]
    return lines, extra


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_plain_http_ready_lines_and_clean_exit(sig):
    proc = start(["--no-tls", "--cluster", "a=127.0.0.1:0", "--cluster", "b=127.0.0.1:0"])
    try:
        ready, _ = read_ready(proc, 2)
        assert set(ready) == {"a", "b"}
        for name, url in ready.items():
            assert url.startswith("http://127.0.0.1:")
            config = requests.get(url + "/platform/3/cluster/config", auth=("admin", "admin"), timeout=10).json()
            assert config["name"] == name
    finally:
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "admin" not in out + err


def test_tls_seed_and_control_port(tmp_path):
    scenario = tmp_path / "seed.json"
    scenario.write_text('{"clusters": {"a": {"cluster_name": "prod-ps", "users": '
                        '[{"name": "root", "password": "Very-Secret-1", "role": "admin"}]}}}')
    cert_dir = tmp_path / "certs"
    proc = start(["--cluster", "a=127.0.0.1:0", "--seed", str(scenario), "--cert-dir", str(cert_dir),
                  "--control", "127.0.0.1:0", "--time-scale", "10", "--latency-ms", "1"])
    try:
        ready, extra = read_ready(proc, 1)
        assert extra["ca"] == str(cert_dir / "ca.pem") and os.path.exists(extra["ca"])
        url = ready["a"]
        assert url.startswith("https://")
        config = requests.get(url + "/platform/3/cluster/config", auth=("root", "Very-Secret-1"), verify=extra["ca"],
                              timeout=10).json()
        assert config["name"] == "prod-ps"
        assert requests.get(extra["control"] + "/_mock/time", timeout=10).json()["scale"] == 10
        log = requests.get(extra["control"] + "/_mock/requests", timeout=10).json()["requests"]
        assert log[0]["user"] == "root" and log[0]["duration_ms"] >= 1
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "Very-Secret-1" not in out + err


def test_bad_arguments_exit_non_zero():
    proc = start(["--cluster", "nonsense"])
    _, err = proc.communicate(timeout=20)
    assert proc.returncode != 0 and "NAME=HOST:PORT" in err


def test_missing_seed_file_is_reported():
    proc = start(["--no-tls", "--cluster", "a=127.0.0.1:0", "--seed", "/nonexistent/seed.yml"])
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 2 and "nonexistent" in err
