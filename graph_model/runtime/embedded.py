"""Start, reuse and stop the embedded Neo4j for one data dir.

The Java launcher (graph_model/runtime/launcher) writes `neo4j.ready` with its pid
once Bolt listens, and removes it on a clean shutdown. A running instance on the
same data dir is reused rather than started twice (the store lock would refuse it).

Bolt requires authentication: user `neo4j`, with the password generated once into
`<data dir>/neo4j-password` (mode 0600). The launcher reads that file itself, so the
password never appears on a command line.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
JAR = PROJECT_ROOT / "target" / "creditlink-neo4j-runtime.jar"
LIB = PROJECT_ROOT / "target" / "lib"
PASSWORD_FILE = "neo4j-password"
USER = "neo4j"


# Started instances outlive the call that started them; keeping the Popen objects lets
# `stop` reap them and stops Python from warning about a child still running.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class EmbeddedNeo4jError(RuntimeError):
    pass


def password_file(data_dir: Path) -> Path:
    return data_dir / PASSWORD_FILE


def embedded_password(data_dir: Path) -> str:
    """The password of user `neo4j` on the embedded Neo4j of `data_dir`.

    Refuses a file other local users could read, or an empty one, naming the file.
    """
    path = password_file(data_dir)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise EmbeddedNeo4jError(
            f"no {path}: the embedded Neo4j has not been started on {data_dir} "
            "(make neo4j-start creates it)"
        ) from None
    except OSError as exc:
        raise EmbeddedNeo4jError(f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as file:
        mode = os.fstat(file.fileno()).st_mode
        if mode & 0o077:
            raise EmbeddedNeo4jError(
                f"{path} is readable by other users (mode {mode & 0o777:o}); run `chmod 600 {path}`"
            )
        password = file.read().decode("utf-8").strip()
    if not password:
        raise EmbeddedNeo4jError(f"{path} is empty; delete it to have a new password generated")
    return password


def ensure_password(data_dir: Path) -> str:
    """The data dir's password, generated on first use."""
    path = password_file(data_dir)
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # written in full under another name, then linked into place: the file is 0600
        # before the password is in it, and a concurrent start never reads half of it
        staging = data_dir / f".{PASSWORD_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(secrets.token_urlsafe(32).encode("ascii") + b"\n")
                file.flush()
                os.fsync(file.fileno())
            with contextlib.suppress(FileExistsError):  # another start made it first
                os.link(staging, path)
        finally:
            staging.unlink(missing_ok=True)
    return embedded_password(data_dir)


@dataclass(frozen=True)
class EmbeddedNeo4j:
    data_dir: Path
    bolt_port: int
    heap_mb: int = 1024
    pagecache_mb: int = 512

    @property
    def ready_file(self) -> Path:
        return self.data_dir / "neo4j.ready"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "logs" / "launcher.log"

    @property
    def gc_log(self) -> Path:
        """The JVM's garbage-collection log: every pause, with wall-clock and uptime."""
        return self.data_dir / "logs" / "gc.log"

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def user(self) -> str:
        return USER

    @property
    def password(self) -> str:
        """The password of user `neo4j` (from `<data dir>/neo4j-password`)."""
        return embedded_password(self.data_dir)

    @property
    def auth(self) -> tuple[str, str]:
        return USER, self.password

    def running_pid(self) -> int | None:
        try:
            pid = int(self.ready_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if not _alive(pid):
            return None
        return pid

    def bolt_answers(self) -> bool:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", self.bolt_port), timeout=0.5),
        ):
            return True
        return False

    def ensure_built(self) -> None:
        if JAR.exists() and LIB.is_dir():
            return
        mvn = shutil.which("mvn")
        if mvn is None:
            raise EmbeddedNeo4jError("Maven (mvn) is needed to build the embedded Neo4j runtime")
        subprocess.run([mvn, "-q", "-B", "package"], cwd=PROJECT_ROOT, check=True)

    def start(self, timeout: float = 120.0) -> int:
        """Start (or reuse) the instance; returns its pid once Bolt answers."""
        pid = self.running_pid()
        if pid is not None and self.bolt_answers():
            return pid
        self.ensure_built()
        java = _java()
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        # Neo4j writes its store files readable by all (umask 022): the directory keeps
        # other local users out of them, as authentication keeps them out of Bolt
        self.data_dir.chmod(0o700)
        ensure_password(self.data_dir)
        self.ready_file.unlink(missing_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                [
                    java,
                    # Neo4j's own defaults: the heap at its full size from the start and
                    # its pages touched once, since growing the heap takes a full
                    # collection and first touches stall the collector, both under load
                    f"-Xms{self.heap_mb}m",
                    f"-Xmx{self.heap_mb}m",
                    "-XX:+AlwaysPreTouch",
                    "-XX:+UseG1GC",
                    f'-Xlog:gc:file="{self.gc_log}":time,uptime:filecount=4,filesize=16m',
                    "-Dfile.encoding=UTF-8",
                    "-cp",
                    f"{JAR}{os.pathsep}{LIB}/*",
                    "creditlink.runtime.Launcher",
                    str(self.data_dir),
                    str(self.bolt_port),
                    str(self.pagecache_mb),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # outlives `make neo4j-start`
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise EmbeddedNeo4jError(
                    f"Neo4j exited with status {proc.returncode}; see {self.log_file}"
                )
            if self.ready_file.exists() and self.bolt_answers():
                _CHILDREN[proc.pid] = proc
                return proc.pid
            time.sleep(0.2)
        proc.terminate()
        proc.wait()
        raise EmbeddedNeo4jError(f"Neo4j did not answer on {self.uri} in {timeout:.0f}s")

    def stop(self, timeout: float = 60.0) -> bool:
        """Stop the instance on this data dir; True when one was running."""
        pid = self.running_pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        child = _CHILDREN.pop(pid, None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if child is not None and child.poll() is not None:
                return True
            if child is None and not _alive(pid):
                return True
            time.sleep(0.2)
        os.kill(pid, signal.SIGKILL)
        if child is not None:
            child.wait()
        self.ready_file.unlink(missing_ok=True)
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child still answers kill(0); its /proc status says so
    with contextlib.suppress(OSError):
        status = Path(f"/proc/{pid}/status").read_text()
        if "\nState:\tZ" in status:
            return False
    return True


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise EmbeddedNeo4jError("a Java 17+ runtime is needed for the embedded Neo4j")
    return java
