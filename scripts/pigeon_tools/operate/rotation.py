"""Rotating the broker's password without an outage: the alternating-users strategy of AWS's
rotation templates. The broker has two users for Pigeon; the secret names one. A rotation gives
the OTHER user a new password, tests it, then points the secret at it, in the templates' four
steps:

1. create: a new version of the secret, staged AWSPENDING: the other user, a new password
   (Secrets Manager's GetRandomPassword); a pending version left by a stopped rotation is used;
2. set: that user gets that password on the broker (created if missing, with the current
   user's tags and permissions);
3. test: every node of the pending version accepts the login;
4. finish: every node accepts the pending login again, then AWSCURRENT moves to the pending
   version (the old one becomes AWSPREVIOUS).

Every step works on one version, the rotation's token (AWS's ClientRequestToken): given
(--token), a step refuses a pending version of another rotation; else create picks it (or
keeps the pending version a stopped rotation left) and prints it for a resume. A rotation holds
a lock file (.cache/rotation/) so that a second one from the same machine is refused at once.

No running container notices: its open connection stays, and its cached login (the previous
user) still works. A container that starts reads the new user. The previous user's password
only changes at the NEXT rotation; a container still holding it then is refused once, reads
the secret again (pigeon.credentials) and connects as the current user.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from pigeon.credentials import nodes_from_secret
from pigeon.parsers import ConfigError

STEPS = ("create", "set", "test", "finish")


class RotationError(RuntimeError):
    """A step could not be done; the message says which and why (never a password)."""


@dataclass(frozen=True)
class Login:
    """A version of the secret: its id, JSON value and the user it names."""

    version: str
    value: dict[str, Any]

    @property
    def user(self) -> str:
        return user_of(self.value)

    @property
    def password(self) -> str:
        return password_of(self.value)

    def urls(self) -> tuple[str, ...]:
        try:
            return tuple(node.url for node in nodes_from_secret(self.value))
        except ConfigError as error:
            raise RotationError(f"the secret's version {self.version}: {error}") from None


def _userinfo(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return unquote(parts.username or ""), unquote(parts.password or "")


def _url_list(value: dict[str, Any]) -> list[str]:
    if isinstance(value.get("url"), str):
        return [u.strip() for u in value["url"].split(",") if u.strip()]
    if isinstance(value.get("urls"), list):
        return [str(u) for u in value["urls"]]
    return []


def user_of(value: dict[str, Any]) -> str:
    """The broker user a secret value names, in any of its forms (one user for every node)."""
    if "username" in value and not _url_list(value):
        return str(value["username"])
    users = {_userinfo(url)[0] for url in _url_list(value)}
    if len(users) != 1:
        raise RotationError("the secret's URLs name no user, or more than one")
    return users.pop()


def password_of(value: dict[str, Any]) -> str:
    if "password" in value and not _url_list(value):
        return str(value["password"])
    return _userinfo(_url_list(value)[0])[1]


def with_login(value: dict[str, Any], user: str, password: str) -> dict[str, Any]:
    """The same secret value (every other field kept) naming another user and password."""

    def moved(url: str) -> str:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        login = f"{quote(user, safe='')}:{quote(password, safe='')}"
        return urlunsplit(parts._replace(netloc=f"{login}@{host}"))

    changed = dict(value)
    if isinstance(value.get("url"), str):
        changed["url"] = ",".join(moved(url) for url in _url_list(value))
    elif isinstance(value.get("urls"), list):
        changed["urls"] = [moved(url) for url in _url_list(value)]
    else:
        changed["username"], changed["password"] = user, password
    return changed


class Rabbitmqctl:
    """The broker's users through rabbitmqctl (a command prefix: `rabbitmqctl -n rabbit@host`,
    `ssh broker sudo rabbitmqctl`, …). Passwords go on stdin, never on a command line."""

    def __init__(self, command: str, env: dict[str, str] | None = None) -> None:
        self.command = shlex.split(command)
        self.env = env

    def run(self, *args: str, secret: str | None = None) -> str:
        done = subprocess.run(
            [*self.command, *args],
            input=None if secret is None else secret + "\n",
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            said = " ".join((done.stderr or done.stdout).split())[:300]
            raise RotationError(f"rabbitmqctl {args[0]} failed (exit {done.returncode}): {said}")
        return done.stdout

    def users(self) -> dict[str, list[str]]:
        listed = json.loads(self.run("list_users", "--formatter", "json", "--quiet"))
        return {entry["user"]: list(entry.get("tags", [])) for entry in listed}

    def permissions(self, user: str) -> list[dict[str, str]]:
        found = self.run("list_user_permissions", "--formatter", "json", "--quiet", user)
        return list(json.loads(found))

    def set_login(self, user: str, password: str, like: str) -> None:
        """`user` logs in with `password` and may do what `like` may."""
        users = self.users()
        if like not in users:
            raise RotationError(f"the broker has no user {like} (the secret's current user)")
        if user in users:
            self.run("change_password", user, secret=password)
        else:
            self.run("add_user", user, secret=password)
        self.run("set_user_tags", user, *users[like])
        grants = self.permissions(like)
        for grant in grants:
            self.run(
                "set_permissions", "-p", grant["vhost"], user,
                grant["configure"], grant["write"], grant["read"],
            )  # fmt: skip
        wanted = {grant["vhost"] for grant in grants}
        for grant in self.permissions(user):  # exactly `like`'s set: none left over
            if grant["vhost"] not in wanted:
                self.run("clear_permissions", "-p", grant["vhost"], user)


class ManagementApi:
    """The broker's users through RabbitMQ's management HTTP API (`/api/users`,
    `/api/permissions`): Amazon MQ for RabbitMQ, which has no rabbitmqctl. `base` is the
    console's URL (https://b-….mq.REGION.amazonaws.com); an administrator's login does it."""

    def __init__(self, base: str, user: str, password: str, timeout: float = 30.0) -> None:
        if urlsplit(base).scheme not in ("http", "https"):
            raise RotationError(f"--management-url must be an http(s) URL, not {base!r}")
        self.base, self.timeout = base.rstrip("/"), timeout
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> Any:
        import urllib.error
        import urllib.request

        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (http(s) only: checked above)
            self.base + path, data=data, method=method, headers=self.headers
        )
        what = f"{method} {path.split('?')[0]}"
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as error:
            said = " ".join(error.read().decode("utf-8", "replace").split())[:200]
            raise RotationError(
                f"the management API refused {what} (HTTP {error.code}): {said}"
            ) from None
        except OSError as error:
            raise RotationError(f"the management API did not answer {what}: {error}") from None
        return json.loads(raw) if raw.strip() else None

    @staticmethod
    def _name(text: str) -> str:
        return quote(text, safe="")

    def users(self) -> dict[str, list[str]]:
        found = {}
        for entry in self.call("GET", "/api/users"):
            tags = entry.get("tags", [])
            found[entry["name"]] = tags.split(",") if isinstance(tags, str) else list(tags)
        return {user: [t for t in tags if t] for user, tags in found.items()}

    def permissions(self, user: str) -> list[dict[str, str]]:
        return list(self.call("GET", f"/api/users/{self._name(user)}/permissions"))

    def set_login(self, user: str, password: str, like: str) -> None:
        """`user` logs in with `password` and may do what `like` may (tags and permissions)."""
        users = self.users()
        if like not in users:
            raise RotationError(f"the broker has no user {like} (the secret's current user)")
        self.call(
            "PUT", f"/api/users/{self._name(user)}",
            {"password": password, "tags": ",".join(users[like])},
        )  # fmt: skip
        grants = self.permissions(like)
        for grant in grants:
            where = f"/api/permissions/{self._name(grant['vhost'])}/{self._name(user)}"
            rights = {k: grant[k] for k in ("configure", "write", "read")}
            self.call("PUT", where, rights)
        wanted = {grant["vhost"] for grant in grants}
        for grant in self.permissions(user):  # exactly `like`'s set: none left over
            if grant["vhost"] not in wanted:
                where = f"/api/permissions/{self._name(grant['vhost'])}/{self._name(user)}"
                self.call("DELETE", where)


def refused_login(error: BaseException) -> bool:
    """Whether pika's error is the node refusing the login. pika calls any end of the
    handshake after Start-Ok a ProbableAuthenticationError (a node restarting, 320, too); its
    text is the repr of what ended it, and only a Connection.Close with 403 is a refusal."""
    import pika

    if isinstance(error, pika.exceptions.AuthenticationError):
        return True
    return isinstance(error, pika.exceptions.ProbableAuthenticationError) and (
        "ConnectionClosedByBroker: (403)" in str(error)
    )


def login_works(url: str, timeout: float = 10.0) -> str | None:
    """None when the node accepts the login of `url`, else why not (no credentials in it)."""
    import pika

    parameters = pika.URLParameters(url)
    parameters.connection_attempts = 1
    parameters.socket_timeout = parameters.stack_timeout = timeout
    try:
        connection = pika.BlockingConnection(parameters)
    except pika.exceptions.AMQPError as error:
        found = [error, *getattr(error, "exceptions", [])]
        if any(refused_login(e) for e in found):
            return "the login was refused"
        return f"no connection ({type(error).__name__})"
    try:
        connection.channel().close()
    finally:
        connection.close()
    return None


class Rotation:
    def __init__(
        self,
        secrets: Any,
        secret_id: str,
        users: tuple[str, str],
        broker: Rabbitmqctl | ManagementApi,
        say: Callable[[str], None] = print,
        check_login: Callable[[str], str | None] = login_works,
        token: str | None = None,
    ) -> None:
        self.secrets, self.secret_id, self.users = secrets, secret_id, users
        self.broker, self.say, self.check_login = broker, say, check_login
        # The version this rotation works on (AWS's ClientRequestToken): given, every step
        # works on that version only; else create picks it and the later steps follow it.
        self.token = token

    def stages(self) -> dict[str, list[str]]:
        described = self.secrets.describe_secret(SecretId=self.secret_id)
        return dict(described.get("VersionIdsToStages", {}))

    def login(self, stage: str) -> Login | None:
        version = next((v for v, s in self.stages().items() if stage in s), None)
        if version is None:
            return None
        found = self.secrets.get_secret_value(SecretId=self.secret_id, VersionId=version)
        try:
            value = json.loads(found["SecretString"])
        except (KeyError, ValueError):
            raise RotationError(f"the secret's {stage} version is not JSON") from None
        if not isinstance(value, dict):
            raise RotationError(f"the secret's {stage} version is not a JSON object")
        return Login(version, value)

    def current(self) -> Login:
        found = self.login("AWSCURRENT")
        if found is None:
            raise RotationError("the secret has no AWSCURRENT version: set its value first")
        if found.user not in self.users:
            raise RotationError(
                f"the secret names the user {found.user}, not one of --users "
                f"{','.join(self.users)}: name it among them"
            )
        return found

    def other(self, current: Login) -> str:
        return self.users[1] if current.user == self.users[0] else self.users[0]

    def pending(self) -> Login | None:
        found = self.login("AWSPENDING")
        current = self.login("AWSCURRENT")
        if found is None or (current is not None and found.version == current.version):
            return None
        return found

    def create(self) -> Login:
        current = self.current()
        found = self.pending()
        if found is not None and self.token and found.version != self.token:
            raise RotationError(
                f"another rotation is in progress: its version {found.version} is staged "
                f"AWSPENDING, not {self.token}; finish it (--token {found.version}) or remove "
                "its AWSPENDING stage"
            )
        if found is not None:
            if found.user != self.other(current):
                raise RotationError(
                    f"a pending version ({found.version}) names {found.user}, not "
                    f"{self.other(current)}: remove its AWSPENDING stage, then rotate again"
                )
            self.say(f"create: the pending version {found.version} ({found.user}) is kept")
            return found
        password = self.secrets.get_random_password(
            PasswordLength=32, ExcludePunctuation=True, RequireEachIncludedType=True
        )["RandomPassword"]
        value = with_login(current.value, self.other(current), password)
        version = self.token or str(uuid.uuid4())
        self.secrets.put_secret_value(
            SecretId=self.secret_id,
            ClientRequestToken=version,
            SecretString=json.dumps(value),
            VersionStages=["AWSPENDING"],
        )
        self.say(
            f"create: version {version} staged AWSPENDING for user {self.other(current)} "
            f"(to resume: --token {version})"
        )
        self.token = version
        return Login(version, value)

    def _pending_or_fail(self) -> tuple[Login, Login]:
        current, found = self.current(), self.pending()
        if found is None:
            raise RotationError("no pending version: run the create step first")
        if self.token and found.version != self.token:
            raise RotationError(
                f"the pending version is {found.version}, not this rotation's {self.token}: "
                "another rotation took over; nothing done"
            )
        return current, found

    def set(self) -> None:
        current, found = self._pending_or_fail()
        self.broker.set_login(found.user, found.password, like=current.user)
        self.say(f"set: {found.user} has the pending password on the broker (as {current.user})")

    def test(self) -> None:
        _, found = self._pending_or_fail()
        self._logins(found)

    def _logins(self, found: Login) -> None:
        for url in found.urls():
            problem = self.check_login(url)
            host = url.rpartition("@")[2].split("/")[0]
            if problem:
                raise RotationError(f"test: {host}: {problem} for {found.user}; nothing switched")
            self.say(f"test: {host} accepts {found.user}")

    def interrupted_finish(self) -> bool:
        """Complete a finish stopped between its two stage moves (AWSCURRENT already moved,
        AWSPENDING still on the same version); True when there was one."""
        stages = self.stages()
        both = [v for v, s in stages.items() if "AWSCURRENT" in s and "AWSPENDING" in s]
        if not both:
            return False
        self.secrets.update_secret_version_stage(
            SecretId=self.secret_id, VersionStage="AWSPENDING", RemoveFromVersionId=both[0]
        )
        self.say(
            f"finish: an earlier rotation had switched AWSCURRENT to {both[0]} and stopped; its "
            "AWSPENDING stage is removed: that rotation is finished"
        )
        return True

    def finish(self) -> None:
        if self.interrupted_finish():
            return
        current, found = self._pending_or_fail()
        self._logins(found)  # again, right before: the broker may have changed since the test
        self.secrets.update_secret_version_stage(
            SecretId=self.secret_id,
            VersionStage="AWSCURRENT",
            MoveToVersionId=found.version,
            RemoveFromVersionId=current.version,
        )
        self.secrets.update_secret_version_stage(
            SecretId=self.secret_id, VersionStage="AWSPENDING", RemoveFromVersionId=found.version
        )
        self.say(
            f"finish: AWSCURRENT is {found.version} ({found.user}); {current.user} keeps its "
            "password until the next rotation"
        )

    def run(self, steps: tuple[str, ...] = STEPS, lock: Path | None = None) -> None:
        """The steps in order, holding `lock` (a file) so that no other rotation of this
        secret runs from this machine meanwhile."""
        with held(lock):
            if self.interrupted_finish():
                return  # the stopped rotation carries on to its end, and no new one starts
            for step in steps:
                if step == "create":
                    self.create()
                else:
                    getattr(self, step)()


@contextmanager
def held(lock: Path | None) -> Iterator[None]:
    """An exclusive lock on the file `lock` (none when None); refused at once when held."""
    if lock is None:
        yield
        return
    import fcntl

    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RotationError(
                f"another rotation of this secret is running ({holder}, lock {lock}); "
                "wait for it to end"
            ) from None
        handle.truncate(0)
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
