"""A subset of the OneFS namespace (RAN) API over an in-memory file tree.

The tree of a cluster is a flat dict ``path -> Node`` in ``store["files"]``.
Nodes are immutable tuples, so a snapshot of a subtree (what a SyncIQ job
copies, what ``allow_write_revert`` restores) shares them instead of copying
bytes.  Other areas hook in through ``WRITE_GUARDS`` (refuse writes under a
read-only SyncIQ domain) and ``WRITE_LISTENERS`` (when-source-modified).
"""

import hashlib
import posixpath
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional

from ..framework import ApiError, Response, bad_request, conflict, not_found, register_area, route

ROOT = "/ifs"
PRIVILEGE = "ISI_PRIV_NS_IFS_ACCESS"


class Node(NamedTuple):
    kind: str            # "container" | "object"
    data: bytes
    mtime: float


# (cluster, path) -> error message if the path must not be written, else None
WRITE_GUARDS: List[Callable[[Any, str], Optional[str]]] = []
# (cluster, path) -> None, called after every successful change
WRITE_LISTENERS: List[Callable[[Any, str], None]] = []


# paths ----------------------------------------------------------------------

def normalize(path: str) -> str:
    """An absolute /ifs path without trailing slash; 400 on '..' or paths outside /ifs."""
    text = "/" + str(path or "").strip("/")
    if any(part in ("..", ".") for part in text.split("/")):
        raise bad_request("Invalid path: %s" % path)
    text = posixpath.normpath(text)
    if text != ROOT and not text.startswith(ROOT + "/"):
        raise bad_request("Path must be under /ifs: %s" % path)
    return text


def is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _files(cluster) -> Dict[str, Node]:
    return cluster.store["files"]


# public helpers for other areas -------------------------------------------------

def exists(cluster, path: str) -> bool:
    return normalize(path) in _files(cluster)


def is_dir(cluster, path: str) -> bool:
    node = _files(cluster).get(normalize(path))
    return node is not None and node.kind == "container"


def read_only_reason(cluster, path: str) -> Optional[str]:
    for guard in WRITE_GUARDS:
        reason = guard(cluster, path)
        if reason:
            return reason
    return None


def _check_writable(cluster, path: str) -> None:
    reason = read_only_reason(cluster, path)
    if reason:
        raise ApiError(403, "AEC_FORBIDDEN", "Read-only file system: %s" % reason)


def _notify(cluster, path: str) -> None:
    for listener in WRITE_LISTENERS:
        listener(cluster, path)


def mkdirs(cluster, path: str, check: bool = True) -> None:
    """Create a directory and its parents (like mkdir -p)."""
    path = normalize(path)
    files = _files(cluster)
    missing = []
    current = path
    while current not in files:
        missing.append(current)
        current = posixpath.dirname(current)
    if files[current].kind != "container":
        raise conflict("Not a directory: %s" % current)
    if check and missing:
        _check_writable(cluster, path)
    now = time.time()
    for item in reversed(missing):
        files[item] = Node("container", b"", now)
    if missing and check:
        _notify(cluster, path)


def write_file(cluster, path: str, data: bytes, check: bool = True) -> None:
    path = normalize(path)
    if path == ROOT:
        raise conflict("Cannot overwrite /ifs")
    files = _files(cluster)
    node = files.get(path)
    if node is not None and node.kind == "container":
        raise conflict("Is a directory: %s" % path)
    if check:
        _check_writable(cluster, path)
    mkdirs(cluster, posixpath.dirname(path), check=False)
    files[path] = Node("object", bytes(data), time.time())
    if check:
        _notify(cluster, path)


def read_file(cluster, path: str) -> bytes:
    node = _files(cluster).get(normalize(path))
    if node is None or node.kind != "object":
        raise not_found("No such file: %s" % path)
    return node.data


def children(cluster, path: str) -> List[str]:
    prefix = normalize(path).rstrip("/") + "/"
    return sorted(p for p in _files(cluster) if p.startswith(prefix) and "/" not in p[len(prefix):])


def remove(cluster, path: str, recursive: bool = False, check: bool = True) -> None:
    path = normalize(path)
    files = _files(cluster)
    if path not in files:
        raise not_found("No such file or directory: %s" % path)
    if path == ROOT:
        raise ApiError(403, "AEC_FORBIDDEN", "Cannot delete /ifs")
    if check:
        _check_writable(cluster, path)
    below = [p for p in files if p.startswith(path + "/")]
    if below and not recursive:
        raise conflict("Directory not empty: %s" % path)
    for item in below + [path]:
        del files[item]
    if check:
        _notify(cluster, path)


def snapshot(cluster, root: str) -> Dict[str, Node]:
    """Every node under ``root`` keyed by its path relative to root ('' = root itself)."""
    root = normalize(root)
    files = _files(cluster)
    result = {}
    prefix = root + "/"
    for path, node in files.items():
        if path == root:
            result[""] = node
        elif path.startswith(prefix):
            result[path[len(prefix):]] = node
    return result


def restore(cluster, root: str, tree: Dict[str, Node], delete_extra: bool = True) -> None:
    """Make the subtree under ``root`` equal to ``tree`` (no guards: SyncIQ itself writes it)."""
    root = normalize(root)
    files = _files(cluster)
    if delete_extra:
        for path in [p for p in files if p.startswith(root + "/")]:
            del files[path]
    mkdirs(cluster, root, check=False)
    for rel, node in sorted(tree.items()):
        if rel:
            files[root + "/" + rel] = node


def tree_bytes(tree: Dict[str, Node]) -> int:
    return sum(len(n.data) for n in tree.values() if n.kind == "object")


def changed_bytes(old: Optional[Dict[str, Node]], new: Dict[str, Node]) -> int:
    """Bytes an incremental copy from ``old`` to ``new`` has to send."""
    if old is None:
        return tree_bytes(new)
    return sum(len(n.data) for rel, n in new.items() if n.kind == "object" and old.get(rel) != n)


def tree_differs(old: Optional[Dict[str, Node]], new: Dict[str, Node]) -> bool:
    if old is None:
        return True
    if old.keys() != new.keys():
        return True
    return any(old[k].kind != n.kind or old[k].data != n.data for k, n in new.items())


# area ---------------------------------------------------------------------------

def _init(cluster, section: Dict[str, Any]) -> None:
    cluster.store["files"] = {ROOT: Node("container", b"", time.time())}
    for path, content in (section.get("files") or {}).items():
        if path.endswith("/") or content is None:
            mkdirs(cluster, path, check=False)
        else:
            data = content.encode() if isinstance(content, str) else bytes(str(content), "utf-8")
            write_file(cluster, path, data, check=False)


def _dump(cluster) -> Dict[str, Any]:
    result = {}
    for path, node in sorted(_files(cluster).items()):
        if node.kind == "object":
            result[path] = {"sha256": hashlib.sha256(node.data).hexdigest(), "size": len(node.data)}
        else:
            result[path] = {"type": "container"}
    return result


register_area("files", init=_init, dump=_dump)


# routes -------------------------------------------------------------------------

def _path(req) -> str:
    return normalize(ROOT + "/" + req.params.get("path", ""))


def _entry(name: str, path: str, node: Node) -> Dict[str, Any]:
    return {
        "name": name,
        "type": node.kind,
        "size": len(node.data),
        "last_modified": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(node.mtime)),
        "mtime_val": int(node.mtime),
        "container_path": posixpath.dirname(path),
    }


@route("GET", "/namespace/ifs", privilege=PRIVILEGE)
@route("GET", "/namespace/ifs/{path:path}", privilege=PRIVILEGE)
def get_path(req, cluster):
    path = _path(req)
    node = _files(cluster).get(path)
    if node is None:
        raise not_found("No such file or directory: %s" % path)
    if node.kind == "object":
        return Response(200, node.data, {"x-isi-ifs-target-type": "object"}, "application/octet-stream")
    files = _files(cluster)
    listing = [_entry(posixpath.basename(p), p, files[p]) for p in children(cluster, path)]
    return Response(200, {"children": listing}, {"x-isi-ifs-target-type": "container"})


@route("HEAD", "/namespace/ifs", privilege=PRIVILEGE, write=False)
@route("HEAD", "/namespace/ifs/{path:path}", privilege=PRIVILEGE, write=False)
def head_path(req, cluster):
    path = _path(req)
    node = _files(cluster).get(path)
    if node is None:
        raise not_found("No such file or directory: %s" % path)
    headers = {"x-isi-ifs-target-type": node.kind, "x-isi-ifs-size": str(len(node.data))}
    return Response(200, None, headers)


@route("PUT", "/namespace/ifs/{path:path}", privilege=PRIVILEGE)
def put_path(req, cluster):
    path = _path(req)
    exists_now = path in _files(cluster)
    if exists_now and req.query.get("overwrite", "").lower() == "false":
        raise ApiError(409, "AEC_CONFLICT", "File exists: %s" % path)
    if (req.headers.get("x-isi-ifs-target-type") or "object").lower() == "container":
        if exists_now and not is_dir(cluster, path):
            raise conflict("Not a directory: %s" % path)
        mkdirs(cluster, path)
        return Response(200, None)
    write_file(cluster, path, req.body or b"")
    return Response(200, None)


@route("DELETE", "/namespace/ifs/{path:path}", privilege=PRIVILEGE)
def delete_path(req, cluster):
    remove(cluster, _path(req), recursive=req.flag("recursive"))
    return Response(204)
