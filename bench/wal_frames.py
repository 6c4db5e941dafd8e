"""Counts the frames of a SQLite WAL file per b-tree (table or index) of its database: bench/wal_frames.sh.

    python3 bench/wal_frames.py DB WAL

Every frame holds one page; its header names the page number and, on the last frame of a commit, the database size.
Frames of earlier WAL generations (other salts) still on disk count too: they are pages earlier commits wrote. Page
numbers are mapped to b-trees with SQLite's `dbstat` table of the database after the WAL is applied; a page the
database no longer holds counts as `(freed)`. Prints a Markdown table, largest share first.
"""
import collections
import sqlite3
import struct
import sys


def main(db: str, wal_path: str) -> None:
    wal = open(wal_path, "rb").read()
    if len(wal) < 32:
        sys.exit("the WAL is empty: the load wrote nothing or a checkpoint truncated it")
    page_size = struct.unpack(">I", wal[8:12])[0]
    frames, commits, off = [], 0, 32
    while off + 24 + page_size <= len(wal):
        page, commit_size = struct.unpack(">II", wal[off : off + 8])
        frames.append(page)
        commits += commit_size != 0
        off += 24 + page_size
    con = sqlite3.connect(db)  # applies the WAL beside it, so dbstat sees the pages the load added
    owner = {pageno: name for name, pageno in con.execute("SELECT name, pageno FROM dbstat")}
    counts = collections.Counter(owner.get(p, "(freed)") for p in frames)
    total = sum(counts.values())
    print(f"{total:,} frames ({page_size} B pages) in {commits:,} commits: {total / max(commits, 1):.0f} pages per commit")
    print()
    print("| b-tree | frames | share |")
    print("|---|---:|---:|")
    for name, n in counts.most_common():
        if n / total >= 0.005:
            print(f"| {name} | {n:,} | {100 * n / total:.1f} % |")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
