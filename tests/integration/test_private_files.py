"""Files that DuckDB creates after the warehouse is open are owner-only too when the `mentor` command runs."""

from __future__ import annotations

import datetime as dt
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


def test_copies_a_killed_load_left_beside_the_warehouse_are_removed_by_the_next_load(tmp_path: Path) -> None:
    from pipeline.ingest import ingest
    from pipeline.warehouse import connect

    exports = tmp_path / "exports" / "100001"
    exports.mkdir(parents=True)
    (exports / "pupils.csv").write_text(
        "upn,surname,forename,date_of_birth,sex,year_group,sen_provision,fsm_eligible\nL801400014001,Zoë,Ann,2014-03-01,F,7,N,N\n",
        encoding="cp1252",
    )
    (exports / "attendance.csv").write_text("upn,date,session,mark\nL801400014001,2025-11-03,AM,/\n", encoding="utf-8")
    warehouse = tmp_path / "w.duckdb"
    left = tmp_path / ".w.duckdb.scratch"  # a run killed mid-load left its transcoded copy of pupils.csv here
    left.mkdir(mode=0o700)
    (left / "100001-pupils.csv").write_text("upn,surname\nL801400014001,Zoë\n", encoding="utf-8")
    con = connect(warehouse, key=None)
    ingest(con, tmp_path / "exports", today=dt.date(2025, 11, 4))
    assert con.execute("select surname from pupils").fetchall() == [("Zoë",)]  # transcoded from Windows-1252
    assert not left.exists()
