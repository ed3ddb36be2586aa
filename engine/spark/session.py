"""A Spark session for Tenet, and a clear message when Spark cannot run here."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.exceptions import SparkUnavailable

INSTALL = "pip install 'tenet[spark]'"


def require_pyspark() -> None:
    try:
        import pandas  # noqa: F401  (pyspark's mapInArrow needs it)
        import pyspark  # noqa: F401
    except ImportError as error:
        raise SparkUnavailable(f"Spark runs need pyspark and pandas, and {error.name} is not "
                               f"installed: {INSTALL}") from None


def java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def session(master: str | None = None) -> Any:
    """The active Spark session, or a new one (``master`` such as `local[2]` or
    `spark://host:7077`; by default what spark-submit set, else `$SPARK_MASTER`, else
    `local[*]`). In local mode the Python workers run this very Python, so they import the same
    Tenet."""
    require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    builder = SparkSession.builder.appName("tenet")
    if master is None and "PYSPARK_GATEWAY_PORT" not in os.environ:  # not under spark-submit
        master = os.environ.get("SPARK_MASTER") or "local[*]"
    if master is not None:
        if java() is None:
            raise SparkUnavailable("Spark needs Java 17 or later, and no `java` was found: "
                                   "install a JDK (Debian: apt-get install "
                                   "openjdk-17-jre-headless) or set JAVA_HOME")
        builder = builder.master(master)
    local = master is not None and master.startswith("local")
    if local:
        # The workers import this very Tenet; no web UI or progress bars on one machine, and
        # Spark's log at ERROR level only.
        os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
        quiet = Path(__file__).with_name("log4j2.properties")
        builder = (builder.config("spark.ui.showConsoleProgress", "false")
                   .config("spark.ui.enabled", "false")
                   .config("spark.driver.extraJavaOptions",
                           f"-Dlog4j2.configurationFile={quiet}"))
    log = Path(tempfile.gettempdir()) / f"tenet-spark-{os.getpid()}.log"
    try:
        with _stderr_to(log):
            spark = builder.getOrCreate()
    except Exception as error:  # the JVM did not start: the message says why
        raise SparkUnavailable(f"Spark did not start: {error} (the JVM's messages are in "
                               f"{log})") from None
    atexit.register(_remove, log)
    if local:
        spark.sparkContext.setLogLevel("ERROR")
    return spark


def _remove(log: Path) -> None:
    with contextlib.suppress(OSError):
        log.unlink()


@contextlib.contextmanager
def _stderr_to(log: Path) -> Iterator[None]:
    """The JVM that starts now writes its standard error (start-up chatter; Spark's log at
    ERROR level) to ``log``, not into Tenet's output; errors reach Python as exceptions."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(log, "ab") as file:
            os.dup2(file.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
