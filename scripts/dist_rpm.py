"""The RPM of one Keyhold program (scripts/dist.py), built with rpmbuild (Debian's `rpm`).

The files come from dist_layout.stage(), as for the .deb; the spec written here installs
that staged folder as it is and lists it in %files from the manifest, with the modes, the
root:keyhold group of the config and %config(noreplace) on it. Nothing is stripped or split
off (no debuginfo package): the binaries ship as `make dist` built them, as in the .deb.
rpmbuild's own dependency generator adds what the binary links (libc, WebKitGTK...).

The server's scriptlets are Fedora's systemd and sysusers conventions written out by hand,
because Debian's rpm has no systemd-rpm-macros: %pre makes the keyhold system user, %post
presets the unit on a first install, %preun stops and disables it on erase, %postun restarts
it on upgrade. The data dir is in %files, owned by keyhold with mode 0700: rpm creates it
after %pre made the user, and an erase leaves it while it holds a vault.
"""
import os
import subprocess
import tempfile

from dist_layout import (DATA_DIR, HOMEPAGE, LICENSE, MAINTAINER, PACKAGES, REVISION,
                         VERSION, Entry, stage)

SERVER_SCRIPTLETS = f"""\
%pre
getent group keyhold >/dev/null || groupadd -r keyhold
getent passwd keyhold >/dev/null || useradd -r -g keyhold -d /{DATA_DIR} \\
    -s /usr/sbin/nologin -c "Keyhold vault" keyhold
exit 0

%post
if [ "$1" -eq 1 ] && command -v systemctl >/dev/null; then
    systemctl --no-reload preset keyhold-server.service >/dev/null 2>&1 || :
fi

%preun
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl --no-reload disable --now keyhold-server.service >/dev/null 2>&1 || :
fi

%postun
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -ge 1 ]; then
        systemctl try-restart keyhold-server.service >/dev/null 2>&1 || :
    fi
fi
"""

# rpmbuild settings: no stripping, no debuginfo, no /usr/lib/.build-id links (the file
# list is the staged one, exactly), and the file name Fedora uses.
DEFINES = {
    "__os_install_post": "%{nil}",
    "debug_package": "%{nil}",
    "_build_id_links": "none",
    "_build_name_fmt": "%%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm",
}
PAYLOAD = {"xz": "w6.xzdio", "gzip": "w9.gzdio", "none": "w0.ufdio"}


def files_section(manifest):
    lines = []
    for e in manifest:
        attr = f"%attr({e.mode:04o},{e.owner},{e.group})"
        prefix = "%dir " if e.is_dir else "%config(noreplace) " if e.config else ""
        lines.append(f"{prefix}{attr} /{e.path}")
    return "\n".join(lines) + "\n"


def spec(kind, staged, manifest):
    """The spec file of `kind`, installing the folder `staged`."""
    p = PACKAGES[kind]
    requires = "".join(f"Requires: {r}\n" for r in p["requires"]["rpm"])
    if kind == "server":
        requires += "Requires(pre): shadow-utils\n"
    mkdirs = "".join(f"mkdir -p %{{buildroot}}/{e.path}\n" for e in manifest if e.is_dir)
    return (f"Name: {p['name']}\nVersion: {VERSION}\nRelease: {REVISION}\n"
            f"Summary: {p['summary'][0].upper()}{p['summary'][1:]}\n"
            f"License: {LICENSE}\nURL: {HOMEPAGE}\nPackager: {MAINTAINER}\n{requires}\n"
            f"%description\n{p['description']}\n\n"
            f"%install\ncp -a {staged}/. %{{buildroot}}/\n{mkdirs}\n"
            + (SERVER_SCRIPTLETS if kind == "server" else "")
            + f"\n%files\n{files_section(manifest)}\n"
            f"%changelog\n* Fri Dec 04 2026 {MAINTAINER} - {VERSION}-{REVISION}\n"
            f"- Release {VERSION}.\n")


def build(kind, binary, out, compress="xz"):
    """Builds the .rpm of `kind` from `binary` into `out`; returns its path."""
    name = PACKAGES[kind]["name"]
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        staged = os.path.join(tmp, "staged")
        manifest = stage(kind, binary, staged, "rpm")
        if kind == "server":
            manifest.append(Entry(DATA_DIR, 0o700, is_dir=True, group="keyhold", owner="keyhold"))
        spec_path = os.path.join(tmp, f"{name}.spec")
        with open(spec_path, "w") as f:
            f.write(spec(kind, staged, manifest))
        defines = {**DEFINES, "_topdir": os.path.join(tmp, "rpmbuild"),
                   "_rpmdir": os.path.abspath(out), "_binary_payload": PAYLOAD[compress]}
        cmd = ["rpmbuild", "-bb", "--quiet"]
        for key, value in defines.items():
            cmd += ["--define", f"{key} {value}"]
        subprocess.run(cmd + [spec_path], check=True, capture_output=True, text=True)
        arch = subprocess.run(["rpm", "--eval", "%{_arch}"], check=True, capture_output=True,
                              text=True).stdout.strip()
    return os.path.join(out, f"{name}-{VERSION}-{REVISION}.{arch}.rpm")
