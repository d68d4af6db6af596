"""MockControl: a small Python client of the /_mock/ control API, for tests.

Calls go to the control port when there is one (it never goes down), else to
the port of the cluster they are about (``up`` goes through another cluster's
port, since a down cluster refuses connections).
"""

from typing import Any, Dict, List, Optional

import requests


class MockControlError(RuntimeError):
    pass


class MockControl:
    def __init__(self, urls: Dict[str, str], control_url: Optional[str] = None, verify: Any = True,
                 timeout: float = 30.0):
        self.urls = dict(urls)
        self.control_url = control_url
        self.timeout = timeout
        self.http = requests.Session()
        self.http.verify = verify

    # plumbing ---------------------------------------------------------------
    def _base(self, cluster: Optional[str], avoid: Optional[str] = None) -> str:
        if self.control_url:
            return self.control_url
        if cluster and cluster != "*" and cluster != avoid:
            return self.urls[cluster]
        for name, url in self.urls.items():
            if name != avoid:
                return url
        raise MockControlError("no reachable endpoint for the control API")

    def _call(self, method: str, path: str, cluster: Optional[str] = None, body: Any = None,
              params: Optional[Dict[str, Any]] = None, avoid: Optional[str] = None, timeout: Optional[float] = None) -> Any:
        query = dict(params or {})
        if cluster:
            query["cluster"] = cluster
        response = self.http.request(method, self._base(cluster, avoid) + "/_mock/" + path, json=body, params=query,
                                     timeout=timeout or self.timeout)
        if response.status_code >= 400:
            raise MockControlError("%s /_mock/%s -> %d %s" % (method, path, response.status_code, response.text))
        return response.json() if response.content else None

    # state ----------------------------------------------------------------
    def state(self, cluster: str) -> Dict[str, Any]:
        return self._call("GET", "state", cluster)

    def state_all(self) -> Dict[str, Any]:
        return self._call("GET", "state", "*")

    def requests(self, since: int = 0, cluster: Optional[str] = None) -> List[Dict[str, Any]]:
        return self.requests_page(since, cluster)["requests"]

    def requests_page(self, since: int = 0, cluster: Optional[str] = None) -> Dict[str, Any]:
        params = {"since": since}
        if cluster:
            params["cluster"] = cluster
        return self._call("GET", "requests", None, params=params)

    def clear_requests(self) -> None:
        self._call("DELETE", "requests")

    def reset(self) -> None:
        self._call("POST", "reset")

    def seed(self, scenario: Dict[str, Any]) -> None:
        self._call("POST", "seed", body=scenario)

    # faults -----------------------------------------------------------------
    def faults(self, cluster: str, **settings) -> Dict[str, Any]:
        """Merge fault settings (``faults("source", error_rate=0.1)``); no settings = read them."""
        if not settings:
            return self._call("GET", "faults", cluster)
        return self._call("POST", "faults", cluster, body=settings)

    def fail_next(self, cluster: str, path: str, method: Optional[str] = None, count: int = 1, status: int = 503,
                  **extra) -> Dict[str, Any]:
        entry = dict(extra, path=path, count=count, status=status)
        if method:
            entry["method"] = method
        return self.faults(cluster, fail_next=[entry])

    def fail_next_job(self, cluster: str, policy: str, error: str = "Injected job failure") -> Dict[str, Any]:
        return self.faults(cluster, fail_next_job={"policy": policy, "error": error})

    def clear_faults(self, cluster: str) -> None:
        self._call("DELETE", "faults", cluster)

    # availability -------------------------------------------------------------
    def down(self, cluster: str, seconds: Optional[float] = None) -> None:
        body = {} if seconds is None else {"seconds": seconds}
        self._call("POST", "down", cluster, body=body)

    def up(self, cluster: str) -> None:
        self._call("POST", "up", cluster, avoid=cluster)

    def expire_sessions(self, cluster: str) -> int:
        return self._call("POST", "sessions/expire", cluster)["expired"]

    # time -----------------------------------------------------------------------
    def time_scale(self, scale: Optional[float] = None) -> float:
        if scale is None:
            return self._call("GET", "time")["scale"]
        return self._call("POST", "time", body={"scale": scale})["scale"]

    def wait_idle(self, timeout: float = 30.0) -> None:
        self._call("POST", "wait_idle", body={"timeout": timeout}, timeout=timeout + 10)

    # other areas ------------------------------------------------------------------
    def dns(self, name: Optional[str] = None) -> Dict[str, Any]:
        return self._call("GET", "dns", params={"name": name} if name else None)

    def spn(self) -> Dict[str, Any]:
        return self._call("GET", "spn")

    def close(self) -> None:
        self.http.close()
