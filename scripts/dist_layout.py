"""What the packages of scripts/dist.py hold: one file list for the .deb and the .rpm.

`stage()` lays a package's files out under a folder and returns them as a manifest (path,
mode, owning group, config or not); dist_deb.py builds the Debian package from that folder,
dist_rpm.py the RPM from the same folder with its %files list written from the manifest. So
both formats ship the same binary, unit, config, desktop entry and icon with the same modes;
only what a format needs of its own (Debian's changelog and lintian overrides, the RPM's
scriptlets and spec) is added by its module.
"""
import os
import shutil
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERSION = "0.1.0"
REVISION = "1"
MAINTAINER = "Keyhold maintainers <maintainers@keyhold.dev>"
HOMEPAGE = "https://keyhold.dev"
LICENSE = "Apache-2.0"
UNIT = "deploy/systemd/keyhold-server.service"
# Debian 12 still ships units in /lib; Fedora and RHEL only in /usr/lib (their /lib is a
# symlink, and an RPM must not install through it).
UNIT_DEST = {"deb": "lib/systemd/system/keyhold-server.service",
             "rpm": "usr/lib/systemd/system/keyhold-server.service"}
CONFIG_DIR = "etc/keyhold"
ENV_DEST = f"{CONFIG_DIR}/keyhold-server.env"
DATA_DIR = "var/lib/keyhold"
DESKTOP_ID = "keyhold-desktop"
ICON_DEST = f"usr/share/icons/hicolor/512x512/apps/{DESKTOP_ID}.png"
ENTRY_DEST = f"usr/share/applications/{DESKTOP_ID}.desktop"

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
License: {LICENSE}
 On Debian systems, the full text of the Apache License, Version 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
"""

# `requires` per format: Debian package names, and for the RPM the shared-library
# capabilities Tauri's bundler declares for its own RPMs (tauri-cli's interface/rust.rs:
# `libwebkit2gtk-4.1.so.0()(64bit)`, `libgtk-3.so.0()(64bit)`), which Fedora's webkit2gtk4.1
# and gtk3 provide. The formats' own tools add what the binary links (dpkg-shlibdeps,
# rpmbuild's elfdeps); these are named so the package says what it needs.
PACKAGES = {
    "server": {
        "name": "keyhold-server",
        "binary": "keyhold-server",
        "section": "admin",
        "requires": {"deb": ["adduser"], "rpm": []},
        "summary": "Keyhold secrets vault server",
        "description": "The Keyhold vault: secrets, credentials, team access and a\n"
                       "tamper-evident audit log behind an HTTP API. Runs as the keyhold\n"
                       "system user under a sandboxed systemd unit.",
    },
    "cli": {
        "name": "keyhold",
        "binary": "keyhold",
        "section": "utils",
        "requires": {"deb": [], "rpm": []},
        "summary": "command-line client of the Keyhold vault",
        "description": "The keyhold command: sign in to a Keyhold vault, read and write\n"
                       "secrets, manage members and tokens from a shell or a script.",
    },
    "desktop": {
        "name": "keyhold-desktop",
        "binary": "keyhold-desktop",
        "section": "utils",
        # The tray icon's AppIndicator library is loaded at run time (dlopen), so neither
        # format's tools see it: named here.
        "requires": {"deb": ["libwebkit2gtk-4.1-0", "libgtk-3-0", "libayatana-appindicator3-1"],
                     "rpm": ["libwebkit2gtk-4.1.so.0()(64bit)", "libgtk-3.so.0()(64bit)",
                             "libayatana-appindicator3.so.1()(64bit)"]},
        "summary": "Keyhold vault desktop app",
        "description": "The Keyhold dashboard (Tauri 2, WebKitGTK): secrets, members,\n"
                       "tokens and the audit log of a Keyhold vault in a desktop window.",
    },
}


@dataclass(frozen=True)
class Entry:
    """One path a package owns. `owner` and `group` hold once the keyhold user exists: the
    .rpm declares them, the .deb's postinst sets them (dpkg-deb ships everything as root)."""
    path: str
    mode: int
    is_dir: bool = False
    group: str = "root"
    config: bool = False
    owner: str = "root"


def put(root, rel, data, mode):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.chmod(path, mode)


def read(rel, mode="r"):
    with open(os.path.join(ROOT, rel), mode) as f:
        return f.read()


def stage(kind, binary, root, fmt):
    """Lays out the files of package `kind` (in format `fmt`'s paths) under `root`."""
    spec = PACKAGES[kind]
    doc = f"usr/share/doc/{spec['name']}"
    files = [(f"usr/bin/{spec['binary']}", None, 0o755, "root", False),
             (f"{doc}/copyright", COPYRIGHT, 0o644, "root", False)]
    dirs = [Entry(doc, 0o755, is_dir=True)]
    if kind == "server":
        files += [(f"{doc}/README.md", read("README.md"), 0o644, "root", False),
                  (UNIT_DEST[fmt], read(UNIT), 0o644, "root", False),
                  (ENV_DEST, ENV_FILE, 0o640, "keyhold", True)]
        dirs.append(Entry(CONFIG_DIR, 0o750, is_dir=True, group="keyhold"))
    if kind == "desktop":
        files += [(ENTRY_DEST, DESKTOP_ENTRY, 0o644, "root", False),
                  (ICON_DEST, read("icons/icon.png", "rb"), 0o644, "root", False)]
    os.umask(0o022)
    manifest = []
    for rel, data, mode, group, config in files:
        if data is None:
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            shutil.copyfile(binary, os.path.join(root, rel))
            os.chmod(os.path.join(root, rel), mode)
        else:
            put(root, rel, data, mode)
        manifest.append(Entry(rel, mode, group=group, config=config))
    for d in dirs:
        os.chmod(os.path.join(root, d.path), d.mode)
    return dirs + manifest


def installed_size(root):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)
