"""Users of the HTTP API: their role, the cases assigned to them, and a token kept hashed.

Three roles, each doing its job and nothing more:
- operator: submits and cancels jobs, and follows them, in the cases assigned to them;
- examiner: reads the artifacts, features and provenance of the cases assigned to them;
- admin: manages users, rule sets, hash sets and nodes, and reads the audit log; no evidence.

A token is 32 random bytes, shown once when issued; only its SHA-256 is stored (a random
token needs no slow hash: there is nothing to guess). Users live in their own bucket, one
JSON object per user, plus an index from token hash to user.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import asdict, dataclass, replace

from workers.store import ObjectStore

AUTH = "quarry-auth"
ROLES = ("operator", "examiner", "admin")
USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
TOKEN_PREFIX = "qry_"
CACHE_SECONDS = 5.0  # a revoked token stops working within this long in a running server


@dataclass(frozen=True)
class User:
    name: str
    role: str
    cases: tuple[str, ...] = ()
    token_sha256: str = ""
    created: str = ""
    disabled: bool = False

    def may_see(self, case: str) -> bool:
        return self.role in ("examiner", "operator") and case in self.cases


@dataclass
class _Cached:
    user: User | None
    until: float


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user_key(name: str) -> str:
    return f"users/{name}.json"


def _token_key(digest: str) -> str:
    return f"tokens/{digest}.json"


def check_name(name: str) -> str:
    if not USER_NAME.fullmatch(name):
        raise ValueError(f"user name {name!r}: 1 to 64 letters, digits and . _ @ -, starting with a letter or digit")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role {role!r}: one of {', '.join(ROLES)}")
    return role


class Users:
    """The user records in MinIO, with a short cache for the API's token checks."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.cache: dict[str, _Cached] = {}
        self.lock = threading.Lock()

    def ensure(self) -> None:
        if not self.store.client.bucket_exists(AUTH):
            self.store.client.make_bucket(AUTH)

    def get(self, name: str) -> User | None:
        check_name(name)
        if not self.store.exists(AUTH, _user_key(name)):
            return None
        doc = self.store.get_json(AUTH, _user_key(name))
        return User(**{**doc, "cases": tuple(doc.get("cases", ()))})

    def all(self) -> list[User]:
        return [u for key in self.store.list_keys(AUTH, "users/", ".json") if (u := self.get(key[6:-5]))]

    def _save(self, user: User) -> None:
        self.store.put_json(AUTH, _user_key(user.name), {**asdict(user), "cases": list(user.cases)})

    def add(self, name: str, role: str, cases: list[str]) -> str:
        """A new user; their token (shown once, never stored)."""
        self.ensure()
        check_name(name)
        check_role(role)
        if self.get(name) is not None:
            raise ValueError(f"user {name!r} exists (issue a new token with `quarry admin user token {name}`)")
        created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        user = User(name, role, tuple(sorted(set(cases))), created=created)
        return self._issue(user)

    def _issue(self, user: User) -> str:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = token_hash(token)
        self.store.put_json(AUTH, _token_key(digest), {"user": user.name})
        if user.token_sha256:  # the old token stops working
            self.store.remove(AUTH, _token_key(user.token_sha256))
        self._save(replace(user, token_sha256=digest, disabled=False))
        return token

    def new_token(self, name: str) -> str:
        return self._issue(self._existing(name))

    def assign(self, name: str, add: list[str], remove: list[str]) -> User:
        user = self._existing(name)
        cases = (set(user.cases) | set(add)) - set(remove)
        user = replace(user, cases=tuple(sorted(cases)))
        self._save(user)
        return user

    def disable(self, name: str) -> User:
        user = replace(self._existing(name), disabled=True)
        self._save(user)
        return user

    def _existing(self, name: str) -> User:
        user = self.get(name)
        if user is None:
            raise ValueError(f"no user {name!r} (see `quarry admin user list`)")
        return user

    def authenticate(self, token: str) -> User | None:
        """The user a bearer token belongs to, or None (unknown, replaced or disabled)."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
            return None
        digest = token_hash(token)
        now = time.monotonic()
        with self.lock:
            hit = self.cache.get(digest)
            if hit is not None and hit.until > now:
                return hit.user
        user = self._lookup(digest)
        with self.lock:
            if len(self.cache) > 10_000:
                self.cache.clear()
            self.cache[digest] = _Cached(user, now + CACHE_SECONDS)
        return user

    def _lookup(self, digest: str) -> User | None:
        if not self.store.exists(AUTH, _token_key(digest)):
            return None
        user = self.get(self.store.get_json(AUTH, _token_key(digest))["user"])
        if user is None or user.disabled or not hmac.compare_digest(user.token_sha256, digest):
            return None
        return user
