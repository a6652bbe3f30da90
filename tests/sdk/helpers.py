"""Shared set-up for the SDK compatibility suite.

A `RoomdeckServer` is one `roomdeck serve` process; `room_client` builds an official
`RoomClient` for it; `Inbox` and `LogStream` collect what arrives so a test can wait for it
with a deadline instead of sleeping. Nothing here knows about pytest (see conftest.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Awaitable, Callable, TypeVar

from meshagent.api import RoomClient, RoomException, WebSocketClientProtocol
from meshagent.api.participant_token import ApiScope, ParticipantToken

SECRET = "roomdeck-sdk-suite-secret-0123456789abcdef"
PROJECT_ID = "local-project"

STARTUP_TIMEOUT = 30.0  # seconds for `roomdeck serve` to print its URL
STOP_TIMEOUT = 5.0  # seconds for it to exit after SIGTERM/SIGINT
WAIT = 5.0  # default deadline for anything a test waits for over the network

_SERVING = re.compile(r"roomdeck: serving (ws://\S+)")
_RELAYING = re.compile(r"roomdeck inspect: relaying (ws://\S+) -> ")

# ROOMDECK_SDK_VIA_INSPECTOR=1: every server gets a `roomdeck inspect` in front of it, and its
# `url` (WebSocket and REST alike) is the inspector's, so the whole suite runs through one.
VIA_INSPECTOR = os.environ.get("ROOMDECK_SDK_VIA_INSPECTOR", "") not in ("", "0")

T = TypeVar("T")


def roomdeck_bin() -> str:
    path = os.environ.get("ROOMDECK_BIN")
    if not path:
        raise RuntimeError(
            "ROOMDECK_BIN is not set; point it at the roomdeck binary (tests/sdk/run does this)"
        )
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"ROOMDECK_BIN={path} is not an executable file")
    return path


class RoomdeckServer:
    """One `roomdeck serve` process on 127.0.0.1:0 with its own data dir."""

    def __init__(
        self, *, data_dir: Path, log_path: Path, secret: str = SECRET, env: dict[str, str] | None = None
    ):
        self.data_dir = data_dir
        self.env = env
        self.log_path = log_path
        self.secret = secret
        self.url: str | None = None
        # The server's own URL; `url` is the inspector's when one is in front.
        self.direct_url: str | None = None
        self.stdout_lines: list[str] = []
        self._proc: subprocess.Popen[str] | None = None
        self._log_file = None
        self.inspector: Inspector | None = None

    def start(self) -> "RoomdeckServer":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log_path, "a", encoding="utf-8")
        self._proc = subprocess.Popen(
            [
                roomdeck_bin(), "serve",
                "--bind", "127.0.0.1:0",
                "--data-dir", str(self.data_dir),
                "--secret", self.secret,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
            env={**os.environ, **(self.env or {})},
        )
        found = threading.Event()
        # Keep draining stdout for the life of the process, so a chatty server never blocks.
        threading.Thread(target=self._read_stdout, args=(found,), daemon=True).start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not found.wait(0.05):
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"roomdeck serve exited with {self._proc.returncode} before serving\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(
                    f"roomdeck serve printed no 'roomdeck: serving ws://…' line in {STARTUP_TIMEOUT}s\n{self.log_tail()}"
                )
        self.direct_url = self.url
        if VIA_INSPECTOR:
            self.inspector = Inspector(
                upstream=self.direct_url,
                data_dir=self.data_dir.with_name(self.data_dir.name + "-inspector"),
                log_path=self.log_path.with_name(self.log_path.name + ".inspector"),
            ).start()
            self.url = self.inspector.url
        return self

    def _read_stdout(self, found: threading.Event) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self.stdout_lines.append(line.rstrip("\n"))
            match = _SERVING.search(line)
            if match and self.url is None and self.direct_url is None:
                self.url = match.group(1).rstrip("/")
                found.set()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def http_url(self) -> str:
        assert self.url is not None
        return "http" + self.url[len("ws"):]

    @property
    def direct_http_url(self) -> str:
        """The server's own REST base, which URLs it makes (download_url) point at."""
        assert self.direct_url is not None
        return "http" + self.direct_url[len("ws"):]

    def room_url(self, room: str) -> str:
        return f"{self.url}/rooms/{room}"

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Signal the server and wait; the exit code, or None if it was still running after
        STOP_TIMEOUT (it is then killed)."""
        assert self._proc is not None
        if self._proc.poll() is None:
            self._proc.send_signal(sig)
            try:
                self._proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        self._close_log()
        self._stop_inspector()
        return self._proc.returncode

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to flush or clean up."""
        assert self._proc is not None
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(STOP_TIMEOUT)
        self._close_log()
        self._stop_inspector()

    def _stop_inspector(self) -> None:
        if self.inspector is not None:
            code = self.inspector.stop()
            if code != 0:
                raise AssertionError(
                    f"roomdeck inspect exited with {code} after SIGTERM (None = still running)\n"
                    + self.inspector.log_tail()
                )

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            stderr = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            stderr = []
        tail = (
            "--- roomdeck stdout ---\n" + "\n".join(self.stdout_lines[-lines:])
            + "\n--- roomdeck stderr (tail) ---\n" + "\n".join(stderr[-lines:])
        )
        if self.inspector is not None:
            tail += "\n" + self.inspector.log_tail(lines)
        return tail


class Inspector:
    """One `roomdeck inspect --no-tui` process in front of `upstream`, on 127.0.0.1:0."""

    def __init__(self, *, upstream: str, data_dir: Path, log_path: Path):
        self.upstream = upstream
        self.data_dir = data_dir
        self.log_path = log_path
        self.url: str | None = None
        self.stdout_lines: list[str] = []
        self._proc: subprocess.Popen[str] | None = None
        self._log_file = None

    def start(self) -> "Inspector":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log_path, "a", encoding="utf-8")
        self._proc = subprocess.Popen(
            [
                roomdeck_bin(), "inspect",
                "--url", self.upstream,
                "--no-tui",
                "--listen", "127.0.0.1:0",
                "--data-dir", str(self.data_dir),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
        )
        found = threading.Event()
        threading.Thread(target=self._read_stdout, args=(found,), daemon=True).start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not found.wait(0.05):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"roomdeck inspect did not start\n{self.log_tail()}")
        return self

    def _read_stdout(self, found: threading.Event) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self.stdout_lines.append(line.rstrip("\n"))
            match = _RELAYING.search(line)
            if match and self.url is None:
                self.url = match.group(1).rstrip("/")
                found.set()

    @property
    def root(self) -> Path:
        """Where it records: `<data_dir>/inspect`, one directory per host and room."""
        return self.data_dir / "inspect"

    def events(self) -> list[dict[str, Any]]:
        """Every event recorded so far (`roomdeck inspect --dump`)."""
        out = roomdeck("inspect", "--dump", str(self.root))
        if out.returncode != 0:
            raise AssertionError(f"roomdeck inspect --dump failed: {out.stderr}")
        return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]

    def stop(self) -> int | None:
        """SIGTERM and wait: the exit code, or None if it had to be killed."""
        if self._proc is None:
            return None
        code: int | None
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                code = self._proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(STOP_TIMEOUT)
                code = None
        else:
            code = self._proc.returncode
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return code

    def log_tail(self, lines: int = 40) -> str:
        try:
            stderr = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            stderr = []
        return (
            "--- roomdeck inspect stdout ---\n" + "\n".join(self.stdout_lines[-lines:])
            + "\n--- roomdeck inspect stderr (tail) ---\n" + "\n".join(stderr[-lines:])
        )


# --- tokens and clients -----------------------------------------------------------------


def make_token(
    name: str,
    room: str,
    *,
    scope: ApiScope | None = None,
    role: str | None = None,
    expiration: datetime | None = None,
    secret: str = SECRET,
) -> str:
    token = ParticipantToken(name=name, project_id=PROJECT_ID)
    token.add_room_grant(room)
    if role is not None:
        token.add_role_grant(role)
    token.add_api_grant(scope if scope is not None else ApiScope.agent_default())
    return token.to_jwt(token=secret, expiration=expiration)


MINT: Any = object()  # room_client's default: mint a token for `name`


def room_client(
    server: RoomdeckServer,
    room: str,
    name: str = "participant",
    *,
    token: str | None = MINT,
    scope: ApiScope | None = None,
    role: str | None = None,
    reconnect_timeout: float | None = 0,
) -> RoomClient:
    """An official RoomClient for `room` on `server`. By default it carries a token minted
    for `name` with `scope` and `role`; pass `token` to use another, or None for none at all.

    reconnect_timeout=0 turns off the SDK's reconnect loop (a dropped connection fails the
    test instead of hanging it); pass None for the SDK's default, as the CLI uses it."""
    if token is MINT:
        token = make_token(name, room, scope=scope, role=role, secret=server.secret)
    protocol = WebSocketClientProtocol(url=server.room_url(room), token=token)
    return RoomClient(
        protocol_factory=protocol.create_factory(), reconnect_timeout=reconnect_timeout
    )


# --- waiting ----------------------------------------------------------------------------


def run(coro: Awaitable[T], timeout: float = 30.0) -> T:
    """Run one scenario on a fresh event loop, failing (not hanging) after `timeout` s."""

    async def bounded() -> T:
        try:
            return await asyncio.wait_for(coro, timeout)
        except TimeoutError:
            raise AssertionError(f"scenario did not finish within {timeout}s") from None

    return asyncio.run(bounded())


async def eventually(
    predicate: Callable[[], Any], *, what: str, timeout: float = WAIT
) -> Any:
    """Poll `predicate` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


class Inbox:
    """Collects what an SDK event handler is given, for a test to wait on."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.failure: Callable[[], None] = lambda: None  # raises if the source has died

    def put(self, item: Any) -> None:
        self.items.append(item)

    def handler(self, kwarg: str) -> Callable[..., None]:
        """For `x.on(event, inbox.handler("message"))`: keep the named keyword argument."""
        return lambda **kwargs: self.put(kwargs[kwarg])

    def matching(self, predicate: Callable[[Any], bool]) -> list[Any]:
        return [item for item in self.items if predicate(item)]

    async def wait_for(
        self, predicate: Callable[[Any], bool], *, what: str, timeout: float = WAIT
    ) -> Any:
        def found() -> Any:
            self.failure()
            hits = self.matching(predicate)
            return hits[0] if hits else None

        try:
            return await eventually(found, what=what, timeout=timeout)
        except AssertionError as ex:
            raise AssertionError(f"{ex}; received instead: {self.items!r}") from None


def on_message(client: RoomClient) -> Inbox:
    """Every `messaging.on("message")` delivery to `client` (RoomMessage objects)."""
    inbox = Inbox()
    client.messaging.on("message", inbox.handler("message"))
    return inbox


async def enable_messaging(*clients: RoomClient, timeout: float = WAIT) -> None:
    """Enable messaging on each client in turn and wait until each one sees all the others.

    One at a time, each waiting to be online: enables that race each other are a scenario of
    their own (test_participants.py), not set-up for every test."""
    for client in clients:
        await client.messaging.enable()
        await eventually(
            lambda client=client: client.messaging.online,
            what=f"{client.local_participant.id} to be online",
            timeout=timeout,
        )
    everyone = {client.local_participant.id for client in clients}
    for client in clients:
        others = everyone - {client.local_participant.id}
        await eventually(
            lambda client=client, others=others: others
            <= {p.id for p in client.messaging.get_participants()},
            what=f"{client.local_participant.id} to see {sorted(others)}",
            timeout=timeout,
        )


class LogStream:
    """`developer.logs()` consumed in a background task: `async with LogStream(c) as logs`."""

    def __init__(self, client: RoomClient):
        self.client = client
        self.inbox = Inbox()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "LogStream":
        self._task = asyncio.create_task(self._pump())
        self.inbox.failure = self._raise_if_died
        return self

    async def _pump(self) -> None:
        async for event in self.client.developer.logs():
            self.inbox.put(event)

    def _raise_if_died(self) -> None:
        if self._task is not None and self._task.done():
            if self._task.exception() is not None:
                raise AssertionError("developer.logs() failed") from self._task.exception()
            raise AssertionError(f"developer.logs() ended early after {self.inbox.items!r}")

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def wait_for(self, predicate, *, what: str, timeout: float = WAIT):
        return await self.inbox.wait_for(predicate, what=what, timeout=timeout)


def otel_records(event: Any) -> list[tuple[str, str]]:
    """(severityText, body) of each record in an `otel.log` event, read the way
    `meshagent room developer` prints them (meshagent/cli/developer.py:72-100)."""
    if event.type != "otel.log":
        return []
    records = []
    for resource_log in event.data.get("resourceLogs") or []:
        for scope_log in resource_log.get("scopeLogs") or []:
            for record in scope_log.get("logRecords") or []:
                body = record.get("body")
                if isinstance(body, dict) and "stringValue" in body:
                    text = body["stringValue"]
                else:
                    text = json.dumps(body, sort_keys=True)
                records.append((str(record.get("severityText") or "INFO"), text))
    return records


async def expect_refused(client: RoomClient, timeout: float = WAIT) -> RoomException:
    """Connecting must fail with a RoomException within `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            async with client:
                pass
    except RoomException as ex:
        return ex
    except TimeoutError:
        raise AssertionError(
            f"connecting neither succeeded nor failed within {timeout}s; the SDK retries "
            "every refusal except HTTP 403/404/423 (room_server_client.py:1201-1215)"
        ) from None
    raise AssertionError("the server accepted a connection it should have refused")


# --- subprocesses -----------------------------------------------------------------------


def roomdeck(*args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run the roomdeck binary (not `serve`) and return its output."""
    return subprocess.run(
        [roomdeck_bin(), *args],
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def meshagent_cli_path() -> Path:
    return Path(sys.executable).parent / "meshagent"


def meshagent_cli_env(server: RoomdeckServer, room: str, token: str, home: Path) -> dict[str, str]:
    """The environment the official CLI needs to use a local room (protocol doc §1)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHAGENT_")}
    env.update(
        HOME=str(home),  # no profile or saved login from the machine leaks in
        COLUMNS="200",  # rich wraps at 80 columns without a terminal
        NO_COLOR="1",
        MESHAGENT_API_URL=server.http_url,
        MESHAGENT_TOKEN=token,
        MESHAGENT_ROOM=room,
        MESHAGENT_PROJECT_ID=PROJECT_ID,
        MESHAGENT_DISABLE_VERSION_CHECK="1",
    )
    return env


async def meshagent_cli(
    env: dict[str, str], *args: str, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run `meshagent ARGS` without blocking the event loop (an SDK client may be listening)."""
    proc = await asyncio.create_subprocess_exec(
        str(meshagent_cli_path()), *args,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"`meshagent {' '.join(args)}` did not finish within {timeout}s") from None
    return subprocess.CompletedProcess(
        ["meshagent", *args], proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")
    )
