"""A throwaway CA and a localhost server certificate (trustme) for a node's TLS listener:
amqps, as Amazon MQ requires."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    certificate: Path
    key: Path


def write(folder: Path) -> TlsFiles:
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="pigeon test CA")
    issued = ca.issue_cert("localhost", "127.0.0.1")
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    ca.cert_pem.write_to_path(str(files.ca))
    for n, blob in enumerate(issued.cert_chain_pems):
        blob.write_to_path(str(files.certificate), append=n > 0)
    issued.private_key_pem.write_to_path(str(files.key))
    files.key.chmod(0o644)  # the node may run as another user (Debian's wrapper)
    return files


def existing(folder: Path) -> TlsFiles | None:
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    return files if all(p.exists() for p in (files.ca, files.certificate, files.key)) else None
