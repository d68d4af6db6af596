"""options.py: the shared option checks name the option in every message."""

from ansible_collections.onefs.dr.plugins.module_utils import options


def test_name_lists():
    assert options.name_list_errors(["a", "b"]) == []
    assert options.name_list_errors([]) == ["policies: give at least one name, and no empty one"]
    assert options.name_list_errors(["a", " "], "shares") == ["shares: give at least one name, and no empty one"]
    assert options.name_list_errors(["a", "a"]) == ["policies: a name is listed twice"]


def test_waits_and_ranges():
    assert options.wait_errors({"timeout": 0, "poll_interval": 0.5}) == ["timeout: must be more than 0"]
    assert options.wait_errors({"timeout": 10, "poll_interval": -1}) == ["poll_interval: must be more than 0"]
    params = {"max_workers": 0, "max_running_jobs": 50, "workers_per_node": None}
    ranges = {"max_workers": (1, 50), "max_running_jobs": (1, 50), "workers_per_node": (1, 20)}
    assert options.range_errors(params, ranges) == ["max_workers: must be 1 to 50"]
