"""Files named by URIs, read once and identified by their sha256: the data the
trainer reads, the model it writes and the server loads. Standard library only."""

from __future__ import annotations

import hashlib
import re
import urllib.parse

MODEL_FILE = "model.joblib"  # inside the model directory CD4ML_MODEL_URI names
DIGEST_PATTERN = re.compile(r"^sha256:[0-9a-f]{64}$")


class ArtifactError(Exception):
    """A URI or file that cannot be used; the message says why, in one line."""


def digest(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


def local_path(uri: str, variable: str) -> str:
    """The path of a file:// URI. Other schemes (s3://, gs://) would need a
    download or upload step; docs/reference-model.md describes one."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme != "file":
        raise ArtifactError(f"{variable}={uri!r}: only file:// URIs are supported")
    if parsed.netloc not in ("", "localhost"):
        raise ArtifactError(f"{variable}={uri!r}: a file:// URI must not name a host")
    return urllib.parse.unquote(parsed.path)


def read(path: str, shown_as: str) -> tuple[bytes, str]:
    """The file's bytes and their digest, from one read: whatever is checked
    against the digest is what gets used."""
    try:
        with open(path, "rb") as f:
            content = f.read()
    except OSError as e:
        raise ArtifactError(f"cannot read {shown_as}: {e.strerror}") from None
    return content, digest(content)
