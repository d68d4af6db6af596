#!/usr/bin/env python3
"""Print what the demo changed, from the simulator's request log (GET /_mock/requests).

Usage: demo_summary.py CLUSTER_URL CA_PATH
"""

import collections
import json
import ssl
import sys
import urllib.request

WRITES = ("POST", "PUT", "PATCH", "DELETE")


def main():
    url, ca_path = sys.argv[1], sys.argv[2]
    ctx = ssl.create_default_context(cafile=ca_path) if url.startswith("https") else None
    with urllib.request.urlopen(url.rstrip("/") + "/_mock/requests?since=0", context=ctx, timeout=30) as resp:
        log = json.load(resp).get("requests", [])
    api = [r for r in log if not str(r.get("path", "")).startswith("/_mock")]
    reads = collections.Counter(r.get("cluster", "?") for r in api if r.get("method") not in WRITES)
    sessions = [r for r in api if "/session/" in str(r.get("path", ""))]
    writes = [r for r in api if r.get("method") in WRITES and r not in sessions]
    errors = [r for r in api if int(r.get("status") or 0) >= 400]
    print(f"  API calls: {len(api)} ({sum(reads.values())} reads, {len(writes)} writes, "
          f"{len(sessions)} session logins/logouts, {len(errors)} error answers)")
    for cluster in sorted(reads):
        print(f"    {cluster}: {reads[cluster]} reads")
    if not writes:
        print("  no writes: nothing changed on either cluster")
    for r in writes:
        body = r.get("body")
        body = "" if body in (None, "", {}) else json.dumps(body, sort_keys=True, separators=(",", ":"))
        if len(body) > 70:
            body = body[:67] + "..."
        print(f"  {r.get('cluster', '?'):>8}  {r.get('method'):6} {r.get('path')} {body} -> {r.get('status')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
