"""Who uses the service: its named tokens, the form's sessions, and the brake on wrong
guesses.

- Tokens: `--token` (one token, named "token") and `--tokens-file` (one `name: token` a
  line, which a firm's IT can write and revoke a line of, then send SIGHUP). A token is
  never echoed: a bad line is named by file and line number only.
- Sessions: a cookie signed (HMAC-SHA256) under a key of this process, or of
  `--secret-file` when several processes must share it. It holds a random id, the
  person's name (the token's name) and its expiry; its signature also covers the
  token itself, so that a token revoked or changed ends its sessions. Signing out ends
  a session on this process for good (its id is kept until it would have expired).
- Failures: each client address has a bucket of a few wrong guesses, refilled slowly;
  when it is empty, that address is answered 429 before anything is compared. The
  table of addresses is bounded.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
import threading
import time
from collections import OrderedDict
from pathlib import Path

from riskassess.errors import UsageError

MIN_TOKEN = 16
MIN_SECRET = 32
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
SINGLE_NAME = "token"  # the name of --token / RISKASSESS_TOKEN


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "replace")).digest()


def read_tokens(path: Path) -> tuple[dict[str, str], list[str]]:
    """The named tokens of a tokens file, and warnings (a file others may read).

    One `name: token` a line; blank lines and lines starting with # are skipped. Raises
    UsageError naming every bad line (file and line number, never the token)."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"{path}: the tokens file is not a regular file")
        if st.st_size > 1_048_576:
            raise UsageError(f"{path}: the tokens file is over 1 MiB")
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the tokens file "
                         f"({exc.strerror or type(exc).__name__})") from None
    warnings = []
    if st.st_mode & (stat.S_IRWXO | stat.S_IRWXG):
        warnings.append(f"{path}: the tokens file can be read by other users of this "
                        "machine (chmod 600 it)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: the tokens file is not UTF-8 text") from None
    tokens: dict[str, str] = {}
    first_line: dict[str, int] = {}
    seen: dict[bytes, int] = {}
    problems = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, token = line.partition(":")
        name, token = name.strip(), token.strip()
        where = f"{path}:{n}"
        if not sep:
            problems.append(f"{where}: not 'name: token' (no colon)")
            continue
        if not NAME.fullmatch(name):
            problems.append(f"{where}: the name is not 1 to 64 letters, digits, '.', '_', "
                            "'@' or '-' (starting with a letter or digit)")
            continue
        if len(token) < MIN_TOKEN:
            problems.append(f"{where}: {name}: the token is shorter than {MIN_TOKEN} "
                            "characters")
            continue
        if any(ch.isspace() or not ch.isprintable() for ch in token):
            problems.append(f"{where}: {name}: the token holds a space or a control "
                            "character")
            continue
        if name in tokens:
            problems.append(f"{where}: {name}: the name is given again (first on line "
                            f"{first_line[name]})")
            continue
        key = _digest(token)
        if key in seen:
            problems.append(f"{where}: {name}: the same token as line {seen[key]} (each "
                            "person needs a token of their own)")
            continue
        tokens[name], first_line[name], seen[key] = token, n, n
    if problems:
        raise UsageError("the tokens file has problems:\n  " + "\n  ".join(problems))
    if not tokens:
        warnings.append(f"{path}: the tokens file names no token: only --token, if given, "
                        "is accepted until it does")
    return tokens, warnings


def read_secret(path: Path) -> tuple[bytes, list[str]]:
    """The key material of `--secret-file` (at least 32 bytes), and warnings."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"--secret-file {path}: not a regular file")
        raw = Path(path).read_bytes()[:65536]
    except OSError as exc:
        raise UsageError(f"--secret-file {path}: cannot read it "
                         f"({exc.strerror or type(exc).__name__})") from None
    try:  # a secret written as text (hex, base64) loses its surrounding blanks and line
        # end; random bytes are taken as they are (a first byte of 0x0a is key material)
        if raw.decode("ascii").isprintable() or raw.decode("ascii").strip().isprintable():
            raw = raw.strip()
    except UnicodeDecodeError:
        pass
    if len(raw) < MIN_SECRET:
        raise UsageError(f"--secret-file {path}: it holds {len(raw)} bytes; at least "
                         f"{MIN_SECRET} are needed (e.g. python3 -c 'import secrets; "
                         "print(secrets.token_hex(32))' > FILE)")
    warnings = []
    if st.st_mode & (stat.S_IRWXO | stat.S_IRWXG):
        warnings.append(f"--secret-file {path}: other users of this machine can read it "
                        "(chmod 600 it)")
    return hashlib.sha256(b"riskassess secret file\0" + raw).digest(), warnings


def subkey(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose (CSRF, sessions), derived from the service's secret."""
    return hmac.new(secret, b"riskassess " + purpose.encode(), hashlib.sha256).digest()


class Keyring:
    """The tokens the service accepts, by name; replaced whole on a reload."""

    def __init__(self, tokens: dict[str, str], path: Path | None = None,
                 single: str | None = None):
        self.path, self.single = path, single
        self.tokens = self._merged(tokens)
        self.digests = {name: _digest(token) for name, token in self.tokens.items()}

    def _merged(self, tokens: dict[str, str]) -> dict[str, str]:
        out = dict(tokens)
        if self.single is not None:
            if SINGLE_NAME in out:
                raise UsageError(f"{self.path}: the name '{SINGLE_NAME}' is the one of "
                                 "--token (RISKASSESS_TOKEN): choose another")
            if any(same_secret(self.single, t) for t in out.values()):
                raise UsageError(f"{self.path}: a token there is also the one of --token "
                                 "(RISKASSESS_TOKEN)")
            out[SINGLE_NAME] = self.single
        return out

    def reload(self) -> str:
        """Read the tokens file again; keep the old set when the new file is not valid.
        Returns what to log (names and line numbers, never a token)."""
        if self.path is None:
            return "no --tokens-file to reload"
        try:
            tokens, warnings = read_tokens(self.path)
            merged = self._merged(tokens)
        except UsageError as exc:
            return (f"{exc}\nthe tokens file was not reloaded: the {len(self.tokens)} "
                    "tokens in use are kept")
        digests = {name: _digest(token) for name, token in merged.items()}
        self.tokens, self.digests = merged, digests  # a request may see the old or the new
        return "\n".join([*warnings, f"the tokens file was reloaded: {len(merged)} tokens"])

    def match(self, given: str) -> str | None:
        """The name of the token given, or None; every token is compared, in time
        independent of where they differ."""
        found, given_digest = None, _digest(given)
        for name, digest in self.digests.items():  # hashed once, at loading
            if hmac.compare_digest(given_digest, digest):
                found = name
        return found

    def bearer(self, authorization: str) -> str | None:
        """The name of the token of an `Authorization: Bearer TOKEN` header, or None."""
        scheme, _, given = authorization.partition(" ")
        name = self.match(given.strip())
        return name if scheme.lower() == "bearer" else None

    def fingerprint(self, name: str) -> bytes | None:
        """What a session's signature covers of its token (None: no such token now)."""
        return self.digests.get(name)


def same_secret(given: str, expected: str) -> bool:
    """Whether two secrets are equal, in time independent of where they differ (both
    are hashed first, so that not even their lengths are compared)."""
    return hmac.compare_digest(_digest(given), _digest(expected))


_COOKIE = re.compile(r"([0-9a-f]{32})\.([0-9]{1,12})\.([0-9a-f]{64})\.(.{1,64})")


class Sessions:
    """The form's sessions: signed cookies, and the ids signed out on this process."""

    MAX_ENDED = 100_000

    def __init__(self, key: bytes, minutes: int):
        self.key, self.seconds = key, minutes * 60
        self.ended: OrderedDict[str, int] = OrderedDict()  # id -> its expiry, soonest first
        self.lock = threading.Lock()
        self.shared: Path | None = None  # the sign-outs of every worker (`share`)
        self._read = 0  # how far this process has read `shared`

    def share(self, path: Path) -> None:
        """Keep the sign-outs in `path` too (a file in a folder of this process's own, made
        before the workers of --workers are forked), so that a session signed out on one
        worker is refused by all: each appends the id it ends, and reads what the others
        appended before it judges a cookie (a stat when nothing changed)."""
        self.shared = path
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)

    def _catch_up(self) -> None:
        if self.shared is None:
            return
        try:
            size = os.stat(self.shared).st_size
            if size <= self._read:
                return
            with open(self.shared, "rb") as f:
                f.seek(self._read)
                data = f.read(size - self._read)
        except OSError:
            return
        end = data.rfind(b"\n") + 1  # whole lines only: another worker may be writing
        self._read += end
        for line in data[:end].splitlines():
            sid, _, expiry = line.decode("ascii", "replace").partition(" ")
            if expiry.isdigit():
                self._remember(sid, int(expiry))

    def _mac(self, sid: str, expiry: int, name: str, fingerprint: bytes) -> str:
        msg = f"{sid}|{expiry}|{name}|".encode() + fingerprint
        return hmac.new(self.key, msg, hashlib.sha256).hexdigest()

    def issue(self, name: str, keyring: Keyring) -> str:
        """A new session's cookie value for the person of the token named `name`."""
        sid = os.urandom(16).hex()
        expiry = int(time.time()) + self.seconds
        return f"{sid}.{expiry}.{self._mac(sid, expiry, name, keyring.fingerprint(name))}.{name}"

    def person(self, cookie: str, keyring: Keyring) -> tuple[str, str, int] | None:
        """(name, session id, expiry) of a valid session cookie, or None: signed under
        this key, not expired, not signed out, and its token still the same."""
        m = _COOKIE.fullmatch(cookie)
        if m is None:
            return None
        sid, expiry, mac, name = m.group(1), int(m.group(2)), m.group(3), m.group(4)
        fingerprint = keyring.fingerprint(name)
        with self.lock:
            self._catch_up()
        if fingerprint is None or expiry <= time.time() or sid in self.ended:
            return None
        if not hmac.compare_digest(mac, self._mac(sid, expiry, name, fingerprint)):
            return None
        return name, sid, expiry

    def end(self, sid: str, expiry: int) -> None:
        """Sign a session out: its cookie is refused from now on, by this process and (with
        `share`) by every worker of it."""
        with self.lock:
            self._remember(sid, expiry)
            if self.shared is not None:
                try:
                    fd = os.open(self.shared, os.O_WRONLY | os.O_APPEND)
                    try:
                        os.write(fd, f"{sid} {expiry}\n".encode("ascii"))
                    finally:
                        os.close(fd)
                except OSError:
                    pass  # this process still refuses it; the log of the sign-out says so

    def _remember(self, sid: str, expiry: int) -> None:
        now = time.time()
        self.ended[sid] = expiry
        if len(self.ended) > self.MAX_ENDED:  # drop those expired anyway, then the oldest
            self.ended = OrderedDict((k, v) for k, v in self.ended.items() if v > now)
            while len(self.ended) > self.MAX_ENDED:
                self.ended.popitem(last=False)


class FailureLimiter:
    """A token bucket of wrong guesses per client address: `burst` at once, then one every
    `every` seconds. An empty bucket means 429 for that address only, before anything is
    compared. The table holds at most `size` addresses (least recently failing dropped
    first), so that no one can grow it without bound; IPv6 clients are counted by /64."""

    def __init__(self, burst: int = 10, every: float = 3.0, size: int = 10_000):
        self.burst, self.every, self.size = burst, every, size
        self.table: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key->(level, at)
        self.reported: OrderedDict[str, float] = OrderedDict()  # key -> when last audited
        self.lock = threading.Lock()

    @staticmethod
    def key(address: str) -> str:
        if ":" in address:
            import ipaddress

            try:
                return str(ipaddress.ip_network(f"{address}/64", strict=False))
            except ValueError:
                return address[:64]
        return address[:64]

    def _level(self, key: str, now: float) -> float:
        level, at = self.table.get(key, (float(self.burst), now))
        return min(float(self.burst), level + (now - at) / self.every)

    def wait(self, address: str) -> int:
        """Seconds this address must wait before its next guess (0: it may guess)."""
        key, now = self.key(address), time.monotonic()
        with self.lock:
            level = self._level(key, now)
        if level >= 1.0:
            return 0
        return max(1, int((1.0 - level) * self.every + 0.999))

    def first_refusal(self, address: str, window: float = 60.0) -> bool:
        """Whether a refusal by the brake is the first from this address in `window`
        seconds (the audit trail records that one only); the table is bounded too."""
        key, now = self.key(address), time.monotonic()
        with self.lock:
            last = self.reported.get(key)
            if last is not None and now - last < window:
                return False
            self.reported[key] = now
            self.reported.move_to_end(key)
            while len(self.reported) > self.size:
                self.reported.popitem(last=False)
        return True

    def fail(self, address: str) -> None:
        """Count one wrong guess from this address."""
        key, now = self.key(address), time.monotonic()
        with self.lock:
            level = self._level(key, now)
            self.table[key] = (max(0.0, level - 1.0), now)
            self.table.move_to_end(key)
            while len(self.table) > self.size:
                self.table.popitem(last=False)
