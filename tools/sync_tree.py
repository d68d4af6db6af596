#!/usr/bin/env python3
"""Mirror the collection's files into a directory that ansible-test accepts.

ansible-test needs the collection to live at .../ansible_collections/<ns>/<name> and
resolves symlinks, so a symlinked tree is not enough: this script copies the files git
knows about (tracked + untracked-but-not-ignored) into DEST, copying only what changed and
deleting files that disappeared. DEST/tests/output (ansible-test's results and its
delegation virtualenv) is kept, so re-runs are warm.

DEST gets its own empty git repository: ansible-test walks up to the nearest .git to list
files, and the enclosing checkout ignores build/, which would hide every file. With a
.git in DEST it lists DEST's files (`git ls-files --others --exclude-standard`).

Usage: sync_tree.py DEST
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

# Not part of what ansible-test should see: tooling, the simulator (a separate Python
# package with its own tests), generated trees.
EXCLUDE_PREFIXES = (
    ".ci/",
    ".venv/",
    "benchmarks/",
    "build/",
    "collections/",
    "tools/",
    "tests/mock_api/",
    "tests/output/",
)
EXCLUDE_DIRS = {".git", ".venv", "build", "collections", "__pycache__", ".pytest_cache", ".hypothesis", "output"}
KEEP_IN_DEST = ("tests/output/", ".git/")


def source_files(root: str) -> list[str]:
    """Relative paths of the files to mirror."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root, check=True, capture_output=True,
        ).stdout.decode("utf-8")
        paths = [p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        # Not a git checkout (e.g. an unpacked source tarball): walk the tree.
        paths = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in EXCLUDE_DIRS]
            for name in filenames:
                paths.append(os.path.relpath(os.path.join(dirpath, name), root))
    keep = []
    for rel in paths:
        rel = rel.replace(os.sep, "/")
        if rel.startswith(EXCLUDE_PREFIXES) or rel.endswith((".pyc", ".tar.gz")):
            continue
        full = os.path.join(root, rel)
        if os.path.isfile(full) and not os.path.islink(full):
            keep.append(rel)
    return sorted(set(keep))


def same(src: str, dst: str) -> bool:
    try:
        a, b = os.stat(src), os.stat(dst)
    except FileNotFoundError:
        return False
    return a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime) and a.st_mode == b.st_mode


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = os.getcwd()
    dest = os.path.abspath(sys.argv[1])
    wanted = source_files(root)
    copied = 0
    for rel in wanted:
        src, dst = os.path.join(root, rel), os.path.join(dest, rel)
        if not same(src, dst):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)
            copied += 1
    wanted_set = set(wanted)
    removed = 0
    for dirpath, dirnames, filenames in os.walk(dest, topdown=False):
        rel_dir = os.path.relpath(dirpath, dest).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        if rel_dir.startswith(KEEP_IN_DEST):
            continue
        for name in filenames:
            rel = rel_dir + name
            if rel not in wanted_set:
                os.remove(os.path.join(dirpath, name))
                removed += 1
        if rel_dir and not os.listdir(dirpath):
            os.rmdir(dirpath)
    if not os.path.isdir(os.path.join(dest, ".git")):
        subprocess.run(["git", "init", "-q", dest], check=True)
    print(f"sync_tree: {len(wanted)} files in {os.path.relpath(dest, root)} ({copied} copied, {removed} removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
