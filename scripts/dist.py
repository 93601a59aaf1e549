#!/usr/bin/env python3
"""Debian packages and RPMs of keyhold-server, the keyhold CLI and the desktop app (`make dist`).

One file list (dist_layout.py) in two formats: .deb with Debian's dpkg-deb (dist_deb.py) and
.rpm with rpmbuild from Debian's `rpm` package (dist_rpm.py), the desktop app's declaring
WebKitGTK and GTK under Debian's package names and, as Tauri's bundler does, the libraries'
RPM capabilities that Fedora's packages provide. The server's systemd unit is
deploy/systemd/keyhold-server.service byte for byte (scripts/check_packages.py checks both
formats, built from the debug binaries, in `make test-deploy`).

No AppImage: appimagetool, the AppImage runtime and linuxdeploy are not in Debian, and the
Tauri bundler's AppImage path downloads linuxdeploy and its plugins at bundle time
(docs/operations.md).

    scripts/dist.py [--out DIR] [--server-bin F] [--cli-bin F] [--desktop-bin F]
                    [--only server,cli,desktop] [--formats deb,rpm] [--compress xz|gzip|none]

`make dist` builds the binaries first (release profile for server and CLI, the `desktop`
profile for the app) and passes them in.
"""
import argparse
import os
import sys

import dist_deb
import dist_rpm
from dist_layout import ROOT

BUILDERS = {"deb": dist_deb.build, "rpm": dist_rpm.build}


def build(kind, binary, out, fmt="deb", compress="xz"):
    """Builds package `kind` ("server", "cli", "desktop") in format `fmt`; returns its path."""
    return BUILDERS[fmt](kind, binary, out, compress)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join(ROOT, "dist"))
    p.add_argument("--server-bin")
    p.add_argument("--cli-bin")
    p.add_argument("--desktop-bin")
    p.add_argument("--only", default="server,cli,desktop")
    p.add_argument("--formats", default="deb,rpm")
    p.add_argument("--compress", default="xz", choices=["xz", "gzip", "none"])
    args = p.parse_args()
    for fmt in args.formats.split(","):
        if fmt not in BUILDERS:
            sys.exit(f"dist: unknown format {fmt} (deb, rpm)")
    for kind in args.only.split(","):
        binary = getattr(args, f"{kind}_bin")
        if not binary or not os.path.exists(binary):
            sys.exit(f"dist: the {kind} binary is missing ({binary}); build it first")
        for fmt in args.formats.split(","):
            print(build(kind, binary, args.out, fmt, args.compress))


if __name__ == "__main__":
    main()
