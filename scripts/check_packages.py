"""The Debian packages of scripts/dist.py, checked cheaply in `make test` (via check_deploy.py).

The packages are built from the debug binaries, uncompressed, into a temporary folder: the
same code as `make dist`, minus the release build. What is checked is what an operator relies
on: the unit that runs is the verified one, the config is a conffile nobody else can read,
the maintainer scripts create the user and the private data dir, the desktop app declares
WebKitGTK and has a valid desktop entry and its icon.
"""
import os
import re
import subprocess
import tempfile

import dist


def inspect(deb, into):
    """(control fields, {path: (mode, owner)}, control dir) of a built package."""
    control = dict(re.findall(r"^(\S+): (.*)$", subprocess.run(
        ["dpkg-deb", "--field", deb], capture_output=True, text=True, check=True).stdout, re.M))
    listing = subprocess.run(["dpkg-deb", "--contents", deb], capture_output=True, text=True,
                             check=True).stdout
    files = {}
    for line in listing.splitlines():
        mode, owner, _size, _date, _time, path = line.split(None, 5)
        files[path.removeprefix(".").rstrip("/") or "/"] = (mode, owner)
    ctl = into + ".control"
    subprocess.run(["dpkg-deb", "--control", deb, ctl], check=True)
    subprocess.run(["dpkg-deb", "--extract", deb, into], check=True)
    return control, files, ctl


def server(check, run, binary, root, tmp):
    deb = dist.build("server", binary, tmp, compress="none")
    into = os.path.join(tmp, "server")
    control, files, ctl = inspect(deb, into)
    unit = "/" + dist.UNIT_DEST
    shipped = open(os.path.join(into, dist.UNIT_DEST)).read()
    check("package server: unit is deploy/systemd's",
          shipped == open(os.path.join(root, dist.UNIT)).read(), unit)
    verify = os.path.join(tmp, "keyhold-server.service")
    with open(verify, "w") as f:
        f.write(shipped.replace("/usr/bin/keyhold-server", os.path.join(into, "usr/bin/keyhold-server")))
    code, out = run(["systemd-analyze", "verify", verify])
    check("package server: systemd-analyze verify of the shipped unit",
          code == 0 and not out.strip(), out.strip())
    conffiles = open(os.path.join(ctl, "conffiles")).read().split()
    check("package server: config is a conffile", conffiles == ["/" + dist.ENV_DEST], conffiles)
    check("package server: config 0640, /etc/keyhold 0750",
          files.get("/" + dist.ENV_DEST, ("",))[0] == "-rw-r-----"
          and files.get("/etc/keyhold", ("",))[0] == "drwxr-x---", str(files.get("/etc/keyhold")))
    check("package server: binary in /usr/bin", files.get("/usr/bin/keyhold-server", ("",))[0]
          == "-rwxr-xr-x")
    depends = control.get("Depends", "")
    check("package server: Depends adduser and libc6",
          "adduser" in depends and "libc6" in depends, depends)
    for name in ("postinst", "prerm", "postrm"):
        code, out = run(["sh", "-n", os.path.join(ctl, name)])
        check(f"package server: {name} parses (sh -n)", code == 0, out)
    postinst = open(os.path.join(ctl, "postinst")).read()
    check("package server: postinst makes the keyhold system user and group",
          "adduser --system" in postinst and "addgroup --system" in postinst)
    check("package server: postinst makes /var/lib/keyhold 0700 keyhold",
          "install -d -m 0700 -o keyhold -g keyhold /var/lib/keyhold" in postinst)
    check("package server: postinst gives the config to root:keyhold 0640",
          "chown root:keyhold /etc/keyhold /etc/keyhold/keyhold-server.env" in postinst
          and "chmod 0640 /etc/keyhold/keyhold-server.env" in postinst)


def desktop(check, run, binary, tmp):
    entry = os.path.join(tmp, dist.DESKTOP_ID + ".desktop")
    with open(entry, "w") as f:
        f.write(dist.DESKTOP_ENTRY)
    code, out = run(["desktop-file-validate", entry])
    check("package desktop: desktop-file-validate", code == 0 and not out.strip(), out)
    deb = dist.build("desktop", binary, tmp, compress="none")
    control, files, _ = inspect(deb, os.path.join(tmp, "desktop"))
    depends = control.get("Depends", "")
    check("package desktop: Depends WebKitGTK 4.1 and GTK 3",
          "libwebkit2gtk-4.1-0" in depends and "libgtk-3-0" in depends, depends)
    check("package desktop: entry and icon",
          f"/usr/share/applications/{dist.DESKTOP_ID}.desktop" in files
          and f"/usr/share/icons/hicolor/512x512/apps/{dist.DESKTOP_ID}.png" in files)


def check_all(check, run, debug_bin, root):
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in (("keyhold-server", server), ("keyhold-desktop", desktop)):
            binary = debug_bin(name)
            if not os.path.exists(binary):
                check(f"package: {name} binary to package", False, f"{binary} missing")
            elif fn is server:
                server(check, run, binary, root, tmp)
            else:
                desktop(check, run, binary, tmp)
