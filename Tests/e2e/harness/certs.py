"""Self-signed TLS certificates for the HTTPS tests, made with the `openssl` CLI (Debian's `openssl`, which curl's
package pulls in): one EC P-256 key and a certificate for `localhost` and 127.0.0.1 that is its own CA, so a client
trusts it with `--cacert cert.pem` and checks the name for real."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Certificate:
    cert: Path  # PEM certificate (also the CA file clients trust)
    key: Path  # PEM private key


def self_signed(directory: Path, name: str = "localhost", days: int = 2) -> Certificate:
    """Writes `<name>.crt` and `<name>.key` into `directory` (created if needed) and returns their paths."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl is not installed (Debian's `openssl`; the TLS tests make their certificate with it)"
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    out = subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                          "-nodes", "-keyout", str(key), "-out", str(cert), "-days", str(days),
                          "-subj", f"/CN={name}",
                          "-addext", f"subjectAltName=DNS:{name},DNS:localhost,IP:127.0.0.1"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"openssl req -x509 failed ({out.returncode}): {out.stderr}"
    return Certificate(cert, key)
