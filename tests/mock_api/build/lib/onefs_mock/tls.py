"""A throw-away CA and server certificate, so clients exercise validate_certs and ca_path.

Files written to the cert dir: ``ca.pem`` (give it to clients as ``ca_path``),
``server.pem`` and ``server-key.pem``.  Existing files are reused when they
still cover the requested host names, which keeps restarts fast.  EC P-256
keys: generating them takes milliseconds.
"""

import datetime
import ipaddress
import os
import ssl
from pathlib import Path
from typing import Iterable, List

CA_FILE = "ca.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server-key.pem"
NAMES_FILE = "names.txt"


def _san_entries(names: Iterable[str]):
    from cryptography import x509

    entries = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return entries


def _wanted_names(hosts: Iterable[str]) -> List[str]:
    names = {"localhost", "127.0.0.1", "::1"}
    names.update(h for h in hosts if h and h not in ("0.0.0.0", "::"))
    return sorted(names)


def ensure_certificates(cert_dir: str, hosts: Iterable[str] = ()) -> Path:
    """Create (or reuse) CA + server certificate in ``cert_dir``; return the directory."""
    directory = Path(cert_dir)
    directory.mkdir(parents=True, exist_ok=True)
    names = _wanted_names(hosts)
    names_file = directory / NAMES_FILE
    if all((directory / f).exists() for f in (CA_FILE, CERT_FILE, KEY_FILE)) and names_file.exists():
        if set(names) <= set(names_file.read_text().split()):
            return directory
    _generate(directory, names)
    names_file.write_text("\n".join(names) + "\n")
    return directory


def _generate(directory: Path, names: List[str]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "onefs-mock test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "onefs-mock")]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(_san_entries(names)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (directory / CA_FILE).write_bytes(ca_cert.public_bytes(pem))
    (directory / CERT_FILE).write_bytes(cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    key_path = directory / KEY_FILE
    key_path.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(key_path, 0o600)


def server_context(cert_dir: str) -> ssl.SSLContext:
    directory = Path(cert_dir)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(directory / CERT_FILE), str(directory / KEY_FILE))
    return context


def ca_path(cert_dir: str) -> str:
    return str(Path(cert_dir) / CA_FILE)
