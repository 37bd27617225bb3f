"""The edge's HQ bearer token on disk, and enrolment (code -> token).

The token lives in one file in the edge's data folder, mode 0600, written atomically
(temporary file, fsync, rename), so a reader sees the old token or the new one, never half.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import httpx

from edge.hqsync.errors import EnrolmentError, HqSyncConfigError

__all__ = ["TOKEN_FILE_NAME", "TokenFile", "enrol"]

log = logging.getLogger(__name__)

TOKEN_FILE_NAME = "hq_token"


class TokenFile:
    """The token file; :meth:`read` re-reads it only when it changed on disk."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stamp: tuple[int, int, int] | None = None
        self._token: str | None = None

    def exists(self) -> bool:
        return self.path.exists()

    def read(self) -> str:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            raise HqSyncConfigError(f"no HQ token at {self.path}: enrol the edge first") from None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp != self._stamp or self._token is None:
            token = self.path.read_text(encoding="utf-8").strip()
            if not token:
                raise HqSyncConfigError(f"the HQ token file {self.path} is empty")
            self._token, self._stamp = token, stamp
        return self._token

    def write(self, token: str) -> None:
        token = token.strip()
        if not token or "\n" in token:
            raise HqSyncConfigError("an HQ token is one non-empty line")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, (token + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dfd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        log.info("HQ token written to %s", self.path)


def fingerprint(token: str) -> str:
    """A short, non-secret name for a token (for logs and the 'stopped on this token' mark)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


def enrol(hq_url: str, code: str, data_dir: str | Path, *, ca_file: str | Path | None = None,
          timeout_s: float = 15.0, transport: httpx.BaseTransport | None = None) -> str:
    """Trade a one-time enrolment code for this edge's token at ``hq_url``; store the token in
    ``data_dir/hq_token`` (0600) and return it."""
    verify: bool | str = str(ca_file) if ca_file else True
    try:
        with httpx.Client(base_url=hq_url.rstrip("/"), timeout=timeout_s, verify=verify, transport=transport) as http:
            r = http.post("/api/v1/stores/enrol", json={"code": code.strip()})
    except httpx.HTTPError as exc:
        raise EnrolmentError(f"cannot reach HQ at {hq_url}: {exc}") from exc
    if r.status_code != 200:
        try:
            detail = r.json().get("detail", r.text)
        except ValueError:
            detail = r.text
        raise EnrolmentError(f"HQ refused the enrolment code ({r.status_code}): {str(detail)[:200]}")
    data = r.json()
    token = str(data["token"])
    TokenFile(Path(data_dir) / TOKEN_FILE_NAME).write(token)
    log.info("edge enrolled with HQ as store %s", data.get("store_id"))
    return token
