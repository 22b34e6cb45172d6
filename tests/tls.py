"""
Throwaway TLS certificates, made with the `openssl` command at test time.

`make_certificates(directory)` writes a CA, a server certificate for 127.0.0.1 and localhost
signed by it, a client certificate signed by it, and a second, unrelated CA with a server
certificate of its own (a certificate the first CA does not vouch for). It returns their paths:
`ca`, `cert`/`key` (client), `server_cert`/`server_key`, `rogue_cert`/`rogue_key`, and `dir`
(a directory holding the CA under its OpenSSL hash name, for `ssl_ca_path`).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _ca(name: str, cwd: Path) -> None:
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", f"{name}.key", "-out", f"{name}.pem", "-subj", f"/CN=daf_drf test {name}",
        cwd=cwd,
    )  # fmt: skip


def _signed(name: str, ca: str, cwd: Path, *, server: bool) -> None:
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
        "-subj", f"/CN={'localhost' if server else 'daf_drf test client'}",
        cwd=cwd,
    )  # fmt: skip
    extensions = cwd / f"{name}.ext"
    extensions.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
        if server
        else "extendedKeyUsage=clientAuth\n"
    )
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
        "-CAcreateserial", "-days", "2", "-out", f"{name}.pem", "-extfile", extensions.name,
        cwd=cwd,
    )  # fmt: skip


def make_certificates(directory: Path) -> dict[str, str]:
    if shutil.which("openssl") is None:
        raise RuntimeError("the `openssl` command is needed to make throwaway certificates")
    _ca("ca", directory)
    _signed("server", "ca", directory, server=True)
    _signed("client", "ca", directory, server=False)
    _ca("rogue-ca", directory)
    _signed("rogue", "rogue-ca", directory, server=True)
    hashed = directory / "capath"
    hashed.mkdir()
    shutil.copy(directory / "ca.pem", hashed / "ca.pem")
    _openssl("rehash", str(hashed), cwd=directory)
    return {
        "ca": str(directory / "ca.pem"),
        "cert": str(directory / "client.pem"),
        "key": str(directory / "client.key"),
        "server_cert": str(directory / "server.pem"),
        "server_key": str(directory / "server.key"),
        "rogue_cert": str(directory / "rogue.pem"),
        "rogue_key": str(directory / "rogue.key"),
        "dir": str(hashed),
    }
