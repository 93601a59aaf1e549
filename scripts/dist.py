#!/usr/bin/env python3
"""Debian packages of keyhold-server, the keyhold CLI and the desktop app (`make dist`).

Built with Debian's own tools (dpkg-deb, dpkg-shlibdeps), not cargo-deb: the maintainer
scripts, the conffiles and the file modes are spelled out here, where they can be read and
checked, and nothing has to be compiled to package. The server's systemd unit is
deploy/systemd/keyhold-server.service byte for byte (one source; scripts/check_deploy.py
builds the server package from the debug binary and verifies the unit inside it).

    scripts/dist.py [--out DIR] [--server-bin F] [--cli-bin F] [--desktop-bin F]
                    [--only server,cli,desktop] [--compress xz|none]

`make dist` builds the binaries first (release profile for server and CLI, the `desktop`
profile for the app) and passes them in.
"""
import argparse
import gzip
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERSION = "0.1.0"
REVISION = "1"
MAINTAINER = "Keyhold maintainers <maintainers@keyhold.dev>"
HOMEPAGE = "https://keyhold.dev"
UNIT = "deploy/systemd/keyhold-server.service"
UNIT_DEST = "lib/systemd/system/keyhold-server.service"
ENV_DEST = "etc/keyhold/keyhold-server.env"
DESKTOP_ID = "keyhold-desktop"

ENV_FILE = """\
# keyhold-server settings, read by keyhold-server.service (EnvironmentFile=).
# One KEYHOLD_* variable a line; every flag and its variable: docs/configuration.md.
# Mode 0640 root:keyhold: it may hold the database URL or the SMTP password.
#
# Listen address (plain HTTP is refused off loopback without TLS):
#KEYHOLD_LISTEN=127.0.0.1:8270
#KEYHOLD_TLS_CERT=/etc/keyhold/tls/cert.pem
#KEYHOLD_TLS_KEY=/etc/keyhold/tls/key.pem
#KEYHOLD_PUBLIC_URL=https://vault.example.com
#KEYHOLD_SMTP_URL=smtps://user:password@mail.example.com
#KEYHOLD_MAIL_FROM=Keyhold <keyhold@example.com>
# PostgreSQL instead of SQLite in /var/lib/keyhold (docs/operations.md):
#KEYHOLD_DATABASE_URL=postgres://keyhold_app:...@db.example:5432/keyhold
"""

# Maintainer scripts. The user, the data dir and the modes are (re)asserted on every
# configure, so an upgrade repairs a loosened mode. The data dir survives a purge: it holds
# the vault and its master key, which no package manager should delete (docs/operations.md).
SERVER_POSTINST = """\
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    if ! getent group keyhold >/dev/null; then
        addgroup --system --quiet keyhold
    fi
    if ! getent passwd keyhold >/dev/null; then
        adduser --system --quiet --ingroup keyhold --home /var/lib/keyhold \\
            --no-create-home --shell /usr/sbin/nologin --gecos "Keyhold vault" keyhold
    fi
    install -d -m 0700 -o keyhold -g keyhold /var/lib/keyhold
    chown root:keyhold /etc/keyhold /etc/keyhold/keyhold-server.env
    chmod 0750 /etc/keyhold
    chmod 0640 /etc/keyhold/keyhold-server.env
fi
if [ "$1" = configure ] || [ "$1" = abort-upgrade ] || [ "$1" = abort-deconfigure ] \\
        || [ "$1" = abort-remove ]; then
    if command -v deb-systemd-helper >/dev/null; then
        if deb-systemd-helper --quiet was-enabled keyhold-server.service; then
            deb-systemd-helper enable keyhold-server.service >/dev/null || true
        else
            deb-systemd-helper update-state keyhold-server.service >/dev/null || true
        fi
    fi
    if [ -d /run/systemd/system ]; then
        systemctl --system daemon-reload >/dev/null || true
        if [ -n "$2" ]; then
            deb-systemd-invoke try-restart keyhold-server.service || true
        fi
    fi
fi
exit 0
"""

SERVER_PRERM = """\
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
    deb-systemd-invoke stop keyhold-server.service >/dev/null || true
fi
exit 0
"""

SERVER_POSTRM = """\
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = purge ]; then
    if command -v deb-systemd-helper >/dev/null; then
        deb-systemd-helper purge keyhold-server.service >/dev/null || true
    fi
    # Only an empty data dir goes; a vault's database and master key stay.
    rmdir --ignore-fail-on-non-empty /var/lib/keyhold 2>/dev/null || true
fi
exit 0
"""

# The config holds the database URL and the SMTP password: readable by the service's group
# only, on purpose.
LINTIAN_OVERRIDES = """\
keyhold-server: non-standard-dir-perm 0750 != 0755 [etc/keyhold/]
keyhold-server: non-standard-file-perm 0640 != 0644 [etc/keyhold/keyhold-server.env]
"""

DESKTOP_ENTRY = f"""\
[Desktop Entry]
Type=Application
Name=Keyhold
GenericName=Security Vault
Comment=Secrets, team access and audit of a Keyhold vault
Exec=keyhold-desktop
Icon={DESKTOP_ID}
Terminal=false
Categories=System;Security;
StartupWMClass=keyhold-desktop
"""

COPYRIGHT = f"""\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: keyhold
Source: {HOMEPAGE}

Files: *
Copyright: 2026 Keyhold maintainers
License: Apache-2.0
 On Debian systems, the full text of the Apache License, Version 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
"""

PACKAGES = {
    "server": {
        "name": "keyhold-server",
        "binary": "keyhold-server",
        "section": "admin",
        "depends": ["adduser"],
        "summary": "Keyhold secrets vault server",
        "description": "The Keyhold vault: secrets, credentials, team access and a\n"
                       "tamper-evident audit log behind an HTTP API. Runs as the keyhold\n"
                       "system user under a sandboxed systemd unit.",
    },
    "cli": {
        "name": "keyhold",
        "binary": "keyhold",
        "section": "utils",
        "depends": [],
        "summary": "command-line client of the Keyhold vault",
        "description": "The keyhold command: sign in to a Keyhold vault, read and write\n"
                       "secrets, manage members and tokens from a shell or a script.",
    },
    "desktop": {
        "name": "keyhold-desktop",
        "binary": "keyhold-desktop",
        "section": "utils",
        # dpkg-shlibdeps finds these too; named so the package says what it needs.
        "depends": ["libwebkit2gtk-4.1-0", "libgtk-3-0"],
        "summary": "Keyhold vault desktop app",
        "description": "The Keyhold dashboard (Tauri 2, WebKitGTK): secrets, members,\n"
                       "tokens and the audit log of a Keyhold vault in a desktop window.",
    },
}


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def put(root, rel, data, mode):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.chmod(path, mode)


def shlib_depends(root, binary):
    """The shared-library dependencies of `binary`, as dpkg-shlibdeps computes them."""
    os.makedirs(os.path.join(root, "debian"), exist_ok=True)
    put(root, "debian/control", "Source: keyhold\n\nPackage: keyhold\nArchitecture: any\n", 0o644)
    out = sh(["dpkg-shlibdeps", "-O", "-e" + binary], cwd=root)
    shutil.rmtree(os.path.join(root, "debian"))
    line = next((x for x in out.splitlines() if x.startswith("shlibs:Depends=")), "")
    return [d.strip() for d in line.split("=", 1)[1].split(",") if d.strip()] if line else []


def doc_files(root, name):
    doc = f"usr/share/doc/{name}"
    put(root, f"{doc}/copyright", COPYRIGHT, 0o644)
    changelog = (f"{name} ({VERSION}-{REVISION}) unstable; urgency=medium\n\n"
                 f"  * Release {VERSION}.\n\n -- {MAINTAINER}  Fri, 04 Dec 2026 12:00:00 +0000\n")
    put(root, f"{doc}/changelog.Debian.gz", gzip.compress(changelog.encode(), mtime=0), 0o644)
    if name == "keyhold-server":
        put(root, f"{doc}/README.md", open(os.path.join(ROOT, "README.md")).read(), 0o644)


def stage(kind, binary, root):
    """Lays the package's files out under `root`; returns the extra control files."""
    spec = PACKAGES[kind]
    os.makedirs(os.path.join(root, "usr/bin"))
    shutil.copyfile(binary, os.path.join(root, "usr/bin", spec["binary"]))
    os.chmod(os.path.join(root, "usr/bin", spec["binary"]), 0o755)
    doc_files(root, spec["name"])
    if kind == "server":
        put(root, UNIT_DEST, open(os.path.join(ROOT, UNIT)).read(), 0o644)
        put(root, ENV_DEST, ENV_FILE, 0o640)
        os.chmod(os.path.join(root, "etc/keyhold"), 0o750)
        put(root, "usr/share/lintian/overrides/keyhold-server", LINTIAN_OVERRIDES, 0o644)
        return {"conffiles": f"/{ENV_DEST}\n", "postinst": SERVER_POSTINST,
                "prerm": SERVER_PRERM, "postrm": SERVER_POSTRM}
    if kind == "desktop":
        put(root, f"usr/share/applications/{DESKTOP_ID}.desktop", DESKTOP_ENTRY, 0o644)
        icon = open(os.path.join(ROOT, "icons/icon.png"), "rb").read()
        put(root, f"usr/share/icons/hicolor/512x512/apps/{DESKTOP_ID}.png", icon, 0o644)
    return {}


def control(kind, root, binary_path):
    spec = PACKAGES[kind]
    found = shlib_depends(root, binary_path)
    named = {d.split()[0] for d in found}
    depends = found + [d for d in spec["depends"] if d not in named]
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)
    return (f"Package: {spec['name']}\nVersion: {VERSION}-{REVISION}\n"
            f"Architecture: {sh(['dpkg', '--print-architecture']).strip()}\n"
            f"Maintainer: {MAINTAINER}\nInstalled-Size: {(size + 1023) // 1024}\n"
            f"Depends: {', '.join(dict.fromkeys(depends))}\nSection: {spec['section']}\n"
            f"Priority: optional\nHomepage: {HOMEPAGE}\n"
            f"Description: {spec['summary']}\n"
            + "".join(f" {line}\n" for line in spec["description"].splitlines()))


def build(kind, binary, out, compress="xz"):
    """Builds one package from `binary` into `out`; returns the .deb's path."""
    spec = PACKAGES[kind]
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, spec["name"])
        os.umask(0o022)
        extra = stage(kind, binary, root)
        ctl = control(kind, root, os.path.join(root, "usr/bin", spec["binary"]))
        put(root, "DEBIAN/control", ctl, 0o644)
        for name, text in extra.items():
            put(root, f"DEBIAN/{name}", text, 0o644 if name == "conffiles" else 0o755)
        os.makedirs(out, exist_ok=True)
        deb = os.path.join(out, f"{spec['name']}_{VERSION}-{REVISION}_"
                                f"{sh(['dpkg', '--print-architecture']).strip()}.deb")
        sh(["dpkg-deb", "--root-owner-group", f"-Z{compress}", "--build", root, deb])
    return deb


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join(ROOT, "dist"))
    p.add_argument("--server-bin")
    p.add_argument("--cli-bin")
    p.add_argument("--desktop-bin")
    p.add_argument("--only", default="server,cli,desktop")
    p.add_argument("--compress", default="xz", choices=["xz", "gzip", "none"])
    args = p.parse_args()
    for kind in args.only.split(","):
        binary = getattr(args, f"{kind}_bin")
        if not binary or not os.path.exists(binary):
            sys.exit(f"dist: the {kind} binary is missing ({binary}); build it first")
        print(build(kind, binary, args.out, args.compress))


if __name__ == "__main__":
    main()
