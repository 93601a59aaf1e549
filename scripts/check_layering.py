#!/usr/bin/env python3
"""The crates' layering, checked from `cargo metadata` (run by `make lint`).

Dependencies point one way: server -> vault -> core; client, cli and desktop -> core.
keyhold-vault must not reach an HTTP framework (axum, tower, hyper) through any normal
dependency, so the compiler keeps HTTP out of the domain; nothing but tests depends on
the server. Exits 1 and names each breach.
"""
import json, subprocess, sys

HTTP = {"axum", "axum-core", "axum-server", "tower", "tower-http", "tower-layer",
        "tower-service", "hyper", "hyper-util"}
# Workspace crates each crate may depend on (normal and build dependencies).
ALLOWED = {
    "keyhold-core": set(),
    "keyhold-pgtest": set(),
    "keyhold-keystore": {"keyhold-core"},
    "keyhold-vault": {"keyhold-core", "keyhold-keystore"},
    "keyhold-server": {"keyhold-core", "keyhold-keystore", "keyhold-vault"},
    "keyhold-client": {"keyhold-core"},
    "keyhold-cli": {"keyhold-core", "keyhold-client", "keyhold-keystore"},
    "keyhold-desktop": {"keyhold-core", "keyhold-client", "keyhold-keystore"},
}


def main():
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1"],
        check=True, capture_output=True, text=True).stdout)
    names = {p["id"]: p["name"] for p in meta["packages"]}
    members = {names[i] for i in meta["workspace_members"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}

    def normal_deps(pid):
        for d in nodes[pid]["deps"]:
            if any(k["kind"] in (None, "build") for k in d["dep_kinds"]):
                yield d["pkg"]

    errors = []
    for pid in nodes:
        name = names[pid]
        if name not in members:
            continue
        direct = {names[d] for d in normal_deps(pid)} & members
        if name in ALLOWED:
            for bad in sorted(direct - ALLOWED[name]):
                errors.append(f"{name} depends on {bad}: not allowed by the layering")
        elif name != "keyhold-e2e":
            errors.append(f"{name}: a new workspace crate; add its allowed dependencies here")
    vault = next(p for p in nodes if names[p] == "keyhold-vault")
    seen, stack, path = set(), [vault], {vault: ["keyhold-vault"]}
    while stack:
        pid = stack.pop()
        for d in normal_deps(pid):
            if d in seen:
                continue
            seen.add(d)
            path[d] = path[pid] + [names[d]]
            if names[d] in HTTP:
                errors.append("keyhold-vault reaches an HTTP framework: " + " -> ".join(path[d]))
            stack.append(d)
    if errors:
        print("layering check failed:\n  " + "\n  ".join(errors))
        sys.exit(1)
    print(f"layering: ok ({len(members)} workspace crates; keyhold-vault's {len(seen)} "
          "dependencies include no HTTP framework)")


main()
