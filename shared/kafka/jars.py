"""Apache Kafka's jars and a Java runtime, for the real-Kafka broker of the tests and `leadrelay up`.

The jars come from Maven Central through deploy/kafka/pom.xml (no build, only
`dependency:copy-dependencies`) into a cache folder that is reused once complete:
`LEADRELAY_KAFKA_JARS` if set, else `$XDG_CACHE_HOME/leadrelay/kafka-<version>/` (~/.cache).

    python -m shared.kafka.jars      # fetch if missing (what `make kafka-jars` runs); prints the folder
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

KAFKA_VERSION = "4.1.2"  # keep in step with <kafka.version> in deploy/kafka/pom.xml
MIN_JAVA = 17  # Kafka 4.x brokers need Java 17+
POM = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "pom.xml"
_MARKER = ".complete"  # written last: a folder without it is a fetch that did not finish
FETCH_HINT = "make kafka-jars"


class KafkaRuntimeMissing(RuntimeError):
    """Java or the Kafka jars are not there; the message names the fix."""


def jars_dir() -> Path:
    if configured := os.environ.get("LEADRELAY_KAFKA_JARS"):
        return Path(configured).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "leadrelay" / f"kafka-{KAFKA_VERSION}"


def jars_present(folder: Path | None = None) -> bool:
    folder = folder or jars_dir()
    # A folder named by LEADRELAY_KAFKA_JARS may come from elsewhere (a Kafka tarball's libs/): no marker.
    return (folder / _MARKER).exists() or any(folder.glob("kafka_2.13-*.jar"))


def java_binary() -> str:
    """The `java` to run Kafka with (JAVA_HOME first, then PATH), checked to be Java 17 or newer."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home and (Path(home) / "bin" / "java").exists() else None
    java = java or shutil.which("java")
    if java is None:
        raise KafkaRuntimeMissing(
            f"Apache Kafka needs Java {MIN_JAVA}+ and no `java` was found (JAVA_HOME, PATH). Install a JDK "
            "(Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`), or use the embedded broker "
            "(the default: no `--broker kafka`)."
        )
    version = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version)
    major = int(match.group(1)) if match else 0
    major = int(match.group(2) or 0) if major == 1 and match else major  # "1.8.0" is Java 8
    if major < MIN_JAVA:
        raise KafkaRuntimeMissing(
            f"Apache Kafka {KAFKA_VERSION} needs Java {MIN_JAVA}+, and {java} is Java {major or '?'}; "
            "install a newer JDK or set JAVA_HOME to one."
        )
    return java


def require_jars() -> Path:
    folder = jars_dir()
    if not jars_present(folder):
        raise KafkaRuntimeMissing(
            f"the Apache Kafka {KAFKA_VERSION} jars are not in {folder}. Fetch them from Maven Central "
            f"with `{FETCH_HINT}` (needs Maven, `mvn`), or point LEADRELAY_KAFKA_JARS at a folder of "
            "Kafka jars (a Kafka download's libs/)."
        )
    return folder


def fetch_jars(*, quiet: bool = True) -> Path:
    """Copy Kafka's jars from Maven Central into the cache folder, unless already there."""
    folder = jars_dir()
    if jars_present(folder):
        return folder
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaRuntimeMissing(
            f"Maven (`mvn`) is needed once to fetch the Apache Kafka {KAFKA_VERSION} jars into {folder}; "
            "install it (Debian/Ubuntu: `apt-get install maven`) or set LEADRELAY_KAFKA_JARS to a folder "
            "of Kafka jars."
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Into a temporary sibling, then one rename: an interrupted fetch never looks complete.
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        command = [mvn, *(["-q"] if quiet else []), "-B", "-f", str(POM), "dependency:copy-dependencies"]
        command += [f"-DoutputDirectory={staging}", f"-Dkafka.version={KAFKA_VERSION}"]
        result = subprocess.run(command, capture_output=quiet, text=True, check=False)
        if result.returncode != 0:
            raise KafkaRuntimeMissing(
                f"`{' '.join(command)}` failed (exit {result.returncode}); Maven Central must be reachable.\n"
                f"{(result.stdout or '')[-2000:]}{(result.stderr or '')[-2000:]}"
            )
        (staging / _MARKER).write_text(KAFKA_VERSION + "\n")
        if folder.exists():  # a partial folder from an older, unmarked fetch
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def main() -> int:
    try:
        if not jars_present():
            print(
                f"fetching Apache Kafka {KAFKA_VERSION} from Maven Central into {jars_dir()}", file=sys.stderr
            )
        folder = fetch_jars()
        java_binary()
    except KafkaRuntimeMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
