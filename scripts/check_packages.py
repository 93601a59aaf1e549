"""The packages of scripts/dist.py, checked cheaply in `make test` (via check_deploy.py).

The .deb and .rpm of the server and the desktop app are built from the debug binaries,
uncompressed, into a temporary folder: the same code as `make dist`, minus the release
build. What is checked is what an operator relies on: the unit that runs is the verified
one, the config is a conffile nobody else can read, the maintainer scripts create the user
and the private data dir, the desktop app declares WebKitGTK and GTK and has a valid desktop
entry and its icon; the RPM holds the .deb's files with the same modes (`rpm -qp --info,
--dump, --requires` and its scriptlets), and rpmlint finds nothing but what
scripts/rpmlint.toml explains.
"""
import hashlib
import os
import re
import stat
import subprocess
import tempfile

import dist
import dist_layout as layout


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
    deb = dist.build("server", binary, tmp, "deb", compress="none")
    into = os.path.join(tmp, "server")
    control, files, ctl = inspect(deb, into)
    unit = "/" + layout.UNIT_DEST["deb"]
    shipped = open(os.path.join(into, layout.UNIT_DEST["deb"])).read()
    check("package server: unit is deploy/systemd's",
          shipped == open(os.path.join(root, layout.UNIT)).read(), unit)
    verify = os.path.join(tmp, "keyhold-server.service")
    with open(verify, "w") as f:
        f.write(shipped.replace("/usr/bin/keyhold-server", os.path.join(into, "usr/bin/keyhold-server")))
    code, out = run(["systemd-analyze", "verify", verify])
    check("package server: systemd-analyze verify of the shipped unit",
          code == 0 and not out.strip(), out.strip())
    conffiles = open(os.path.join(ctl, "conffiles")).read().split()
    check("package server: config is a conffile", conffiles == ["/" + layout.ENV_DEST], conffiles)
    check("package server: config 0640, /etc/keyhold 0750",
          files.get("/" + layout.ENV_DEST, ("",))[0] == "-rw-r-----"
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
    return files


def desktop(check, run, binary, tmp):
    entry = os.path.join(tmp, layout.DESKTOP_ID + ".desktop")
    with open(entry, "w") as f:
        f.write(layout.DESKTOP_ENTRY)
    code, out = run(["desktop-file-validate", entry])
    check("package desktop: desktop-file-validate", code == 0 and not out.strip(), out)
    deb = dist.build("desktop", binary, tmp, "deb", compress="none")
    control, files, _ = inspect(deb, os.path.join(tmp, "desktop"))
    depends = control.get("Depends", "")
    check("package desktop: Depends WebKitGTK 4.1, GTK 3 and the tray's AppIndicator",
          "libwebkit2gtk-4.1-0" in depends and "libgtk-3-0" in depends
          and "libayatana-appindicator3-1" in depends, depends)
    check("package desktop: entry and icon",
          f"/{layout.ENTRY_DEST}" in files and f"/{layout.ICON_DEST}" in files)
    return files


def rpm_dump(run, rpm):
    """{path: (mode as `ls -l` shows it, owner, group, is config, sha256)} of an RPM."""
    code, out = run(["rpm", "-qp", "--dump", rpm])
    files = {}
    for line in out.splitlines() if code == 0 else []:
        path, _size, _mtime, digest, mode, owner, group, config = line.split()[:8]
        files[path] = (stat.filemode(int(mode, 8)), owner, group, config == "1", digest)
    return files


def rpm_common(check, run, kind, rpm, deb_files):
    """What every RPM must hold: its name and licence, the .deb's files with the .deb's
    modes (bar Debian's own changelog and lintian overrides; the unit in /usr/lib), and
    nothing rpmlint objects to but what scripts/rpmlint.toml explains."""
    name = layout.PACKAGES[kind]["name"]
    code, info = run(["rpm", "-qp", "--info", rpm])
    fields = dict(re.findall(r"^(\w+)\s*: (.*)$", info, re.M))
    check(f"rpm {kind}: --info names it and its licence",
          code == 0 and fields.get("Name") == name and fields.get("Version") == layout.VERSION
          and fields.get("License") == layout.LICENSE, info[-300:])
    unit = {"/" + layout.UNIT_DEST["deb"]: "/" + layout.UNIT_DEST["rpm"]}
    want = {unit.get(p, p): m for p, (m, _) in deb_files.items() if m.startswith("-")
            and not p.endswith("changelog.Debian.gz") and "/lintian/" not in p}
    got = {p: f[0] for p, f in rpm_dump(run, rpm).items() if f[0].startswith("-")}
    check(f"rpm {kind}: the .deb's files with the .deb's modes", got == want,
          f"only in rpm {sorted(set(got.items()) - set(want.items()))}, "
          f"only in deb {sorted(set(want.items()) - set(got.items()))}")
    code, out = run(["rpmlint", "-c", os.path.join(layout.ROOT, "scripts/rpmlint.toml"), rpm])
    # The debug build is not stripped; `make dist`'s release binaries are (strip = true).
    found = [x for x in out.splitlines() if re.search(r": [EW]: ", x)
             and "unstripped-binary-or-object" not in x]
    check(f"rpm {kind}: rpmlint clean", code == 0 and not found, "\n".join(found) or out[-300:])


def rpm_server(check, run, rpm, root):
    files = rpm_dump(run, rpm)
    unit = hashlib.sha256(open(os.path.join(root, layout.UNIT), "rb").read()).hexdigest()
    check("rpm server: unit in /usr/lib/systemd/system is deploy/systemd's",
          files.get("/" + layout.UNIT_DEST["rpm"], ("",) * 5)[4] == unit)
    check("rpm server: config is %config, 0640 root:keyhold",
          files.get("/" + layout.ENV_DEST, ())[:4] == ("-rw-r-----", "root", "keyhold", True),
          str(files.get("/" + layout.ENV_DEST)))
    check("rpm server: /etc/keyhold 0750 root:keyhold",
          files.get("/etc/keyhold", ())[:3] == ("drwxr-x---", "root", "keyhold"))
    check("rpm server: /var/lib/keyhold 0700 keyhold:keyhold",
          files.get("/var/lib/keyhold", ())[:3] == ("drwx------", "keyhold", "keyhold"))
    code, out = run(["rpm", "-qp", "--requires", rpm])
    requires = out.split("\n")
    check("rpm server: requires shadow-utils and libc",
          code == 0 and "shadow-utils" in requires and "libc.so.6()(64bit)" in requires, out)
    for tag, section in (("PREIN", "pre"), ("POSTIN", "post"), ("PREUN", "preun"),
                         ("POSTUN", "postun")):
        code, body = run(["rpm", "-qp", "--qf", f"%{{{tag}}}", rpm])
        script = os.path.join(os.path.dirname(rpm), f"server.{tag}")
        with open(script, "w") as f:
            f.write(body)
        parsed, out = run(["sh", "-n", script])
        check(f"rpm server: %{section} parses (sh -n)",
              code == 0 and body != "(none)" and parsed == 0, out or body)
        if tag == "PREIN":
            check("rpm server: %pre makes the keyhold system user and group",
                  "groupadd -r keyhold" in body and "useradd -r -g keyhold" in body, body)


def rpm_desktop(check, run, rpm):
    code, out = run(["rpm", "-qp", "--requires", rpm])
    requires = out.split("\n")
    check("rpm desktop: requires WebKitGTK 4.1, GTK 3 and AppIndicator as libraries",
          code == 0 and "libwebkit2gtk-4.1.so.0()(64bit)" in requires
          and "libgtk-3.so.0()(64bit)" in requires
          and "libayatana-appindicator3.so.1()(64bit)" in requires, out)
    code, out = run(["rpm", "-qp", "--list", rpm])
    check("rpm desktop: entry and icon",
          f"/{layout.ENTRY_DEST}" in out.split() and f"/{layout.ICON_DEST}" in out.split())


def check_all(check, run, debug_bin, root):
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("server", "desktop"):
            binary = debug_bin(layout.PACKAGES[kind]["name"])
            if not os.path.exists(binary):
                check(f"package: {kind} binary to package", False, f"{binary} missing")
                continue
            deb_files = server(check, run, binary, root, tmp) if kind == "server" \
                else desktop(check, run, binary, tmp)
            try:
                rpm = dist.build(kind, binary, tmp, "rpm", compress="none")
            except (OSError, subprocess.CalledProcessError) as e:
                check(f"rpm {kind}: rpmbuild (scripts/install-deps.sh installs it)", False,
                      getattr(e, "stderr", "") or str(e))
                continue
            rpm_common(check, run, kind, rpm, deb_files)
            if kind == "server":
                rpm_server(check, run, rpm, root)
            else:
                rpm_desktop(check, run, rpm)
