"""The Debian package of one Keyhold program (scripts/dist.py), built with dpkg-deb.

Debian's own tools (dpkg-deb, dpkg-shlibdeps), not cargo-deb: the maintainer scripts, the
conffiles and the file modes are spelled out here and in dist_layout.py, where they can be
read and checked, and nothing has to be compiled to package.
"""
import gzip
import os
import shutil
import subprocess
import tempfile

from dist_layout import (CONFIG_DIR, DATA_DIR, ENV_DEST, HOMEPAGE, MAINTAINER, PACKAGES,
                         REVISION, VERSION, installed_size, put, stage)

# Maintainer scripts. The user, the data dir and the modes are (re)asserted on every
# configure, so an upgrade repairs a loosened mode. The data dir survives a purge: it holds
# the vault and its master key, which no package manager should delete (docs/operations.md).
SERVER_POSTINST = f"""\
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
    install -d -m 0700 -o keyhold -g keyhold /{DATA_DIR}
    chown root:keyhold /{CONFIG_DIR} /{ENV_DEST}
    chmod 0750 /{CONFIG_DIR}
    chmod 0640 /{ENV_DEST}
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


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def architecture():
    return sh(["dpkg", "--print-architecture"]).strip()


def shlib_depends(root, binary):
    """The shared-library dependencies of `binary`, as dpkg-shlibdeps computes them."""
    os.makedirs(os.path.join(root, "debian"), exist_ok=True)
    put(root, "debian/control", "Source: keyhold\n\nPackage: keyhold\nArchitecture: any\n", 0o644)
    out = sh(["dpkg-shlibdeps", "-O", "-e" + binary], cwd=root)
    shutil.rmtree(os.path.join(root, "debian"))
    line = next((x for x in out.splitlines() if x.startswith("shlibs:Depends=")), "")
    return [d.strip() for d in line.split("=", 1)[1].split(",") if d.strip()] if line else []


def control(kind, root, binary_path):
    spec = PACKAGES[kind]
    found = shlib_depends(root, binary_path)
    named = {d.split()[0] for d in found}
    depends = found + [d for d in spec["requires"]["deb"] if d not in named]
    return (f"Package: {spec['name']}\nVersion: {VERSION}-{REVISION}\n"
            f"Architecture: {architecture()}\n"
            f"Maintainer: {MAINTAINER}\nInstalled-Size: {(installed_size(root) + 1023) // 1024}\n"
            f"Depends: {', '.join(dict.fromkeys(depends))}\nSection: {spec['section']}\n"
            f"Priority: optional\nHomepage: {HOMEPAGE}\n"
            f"Description: {spec['summary']}\n"
            + "".join(f" {line}\n" for line in spec["description"].splitlines()))


def debian_files(kind, root, manifest):
    """What only the .deb carries: its changelog, lintian overrides, control files."""
    name = PACKAGES[kind]["name"]
    changelog = (f"{name} ({VERSION}-{REVISION}) unstable; urgency=medium\n\n"
                 f"  * Release {VERSION}.\n\n -- {MAINTAINER}  Fri, 04 Dec 2026 12:00:00 +0000\n")
    put(root, f"usr/share/doc/{name}/changelog.Debian.gz",
        gzip.compress(changelog.encode(), mtime=0), 0o644)
    conffiles = "".join(f"/{e.path}\n" for e in manifest if e.config)
    if kind != "server":
        return {"conffiles": conffiles} if conffiles else {}
    put(root, f"usr/share/lintian/overrides/{name}", LINTIAN_OVERRIDES, 0o644)
    return {"conffiles": conffiles, "postinst": SERVER_POSTINST, "prerm": SERVER_PRERM,
            "postrm": SERVER_POSTRM}


def build(kind, binary, out, compress="xz"):
    """Builds the .deb of `kind` from `binary` into `out`; returns its path."""
    spec = PACKAGES[kind]
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, spec["name"])
        manifest = stage(kind, binary, root, "deb")
        extra = debian_files(kind, root, manifest)
        ctl = control(kind, root, os.path.join(root, "usr/bin", spec["binary"]))
        put(root, "DEBIAN/control", ctl, 0o644)
        for name, text in extra.items():
            put(root, f"DEBIAN/{name}", text, 0o644 if name == "conffiles" else 0o755)
        os.makedirs(out, exist_ok=True)
        deb = os.path.join(out, f"{spec['name']}_{VERSION}-{REVISION}_{architecture()}.deb")
        sh(["dpkg-deb", "--root-owner-group", f"-Z{compress}", "--build", root, deb])
    return deb
