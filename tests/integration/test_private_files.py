"""Files that DuckDB creates after the warehouse is open are owner-only too when the `mentor` command runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Runs the `mentor` entry point with its command replaced by a write to a warehouse; reports the modes of the files
# beside the warehouse while the connection is still open (the write-ahead log exists only until a checkpoint).
SCRIPT = """
import json, os, sys
from pathlib import Path
from pipeline import cli
from pipeline.warehouse import connect

def write_and_look():
    path = Path(sys.argv[1])
    con = connect(path, key=None)
    con.execute("create table scratch as select range as x from range(1000)")
    con.execute("insert into scratch values (1)")
    print(json.dumps({p.name: p.stat().st_mode & 0o777 for p in path.parent.iterdir()}))
    con.close()

os.umask(0o022)  # a usual login umask: group and others may read what is created
cli.app = write_and_look
cli.main()
"""


def test_the_warehouse_write_ahead_log_is_owner_only(tmp_path: Path) -> None:
    warehouse = tmp_path / "db" / "w.duckdb"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(warehouse)], capture_output=True, text=True, check=True)
    modes = json.loads(done.stdout.strip().splitlines()[-1])
    assert "w.duckdb.wal" in modes, modes  # the write went to the log, which DuckDB made after the warehouse opened
    assert modes == dict.fromkeys(modes, 0o600)
