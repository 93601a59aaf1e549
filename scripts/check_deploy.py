#!/usr/bin/env python3
"""The deployment files, checked by tools nobody here wrote (run by `make test-deploy`):

- deploy/systemd/keyhold-server.service: `systemd-analyze verify` clean, `systemd-analyze
  security --offline=true` exposure 2.0 or lower, and the sandboxing directives present;
- deploy/kubernetes/*.yaml: `kubernetes-validate --strict` (the API's schemas), `yamllint`,
  and the hardening the Deployment must keep (non-root, read-only root, no capabilities,
  seccomp RuntimeDefault, probes, requests and limits);
- deploy/Containerfile: `hadolint`, a non-root USER, a HEALTHCHECK through the server binary;
- the packages of scripts/dist.py (`make dist`), .deb and .rpm, built here from the debug
  binaries without compression: the server package's unit is deploy/'s byte for byte and
  passes `systemd-analyze verify`, its config is a declared conffile (%config in the RPM)
  with mode 0640 in a 0750 /etc/keyhold, its maintainer scripts parse (`sh -n`) and create
  the keyhold user and the 0700 data dir; the desktop entry passes `desktop-file-validate`;
  the desktop package declares WebKitGTK and GTK and ships its icon; the RPM holds the
  .deb's files with the same modes and passes rpmlint (scripts/check_packages.py).

Run with .venv-tools/bin/python (scripts/install-deps.sh makes it; PyYAML comes with
yamllint); systemd-analyze is Debian's. Prints one line
per check and a summary; exits 1 if any check failed.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

import check_packages as packages

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv-tools", "bin")
UNIT = os.path.join(ROOT, "deploy/systemd/keyhold-server.service")
K8S = os.path.join(ROOT, "deploy/kubernetes")
CONTAINERFILE = os.path.join(ROOT, "deploy/Containerfile")
MAX_EXPOSURE = 2.0
RESULTS = []


def debug_bin(name):
    """The debug build of `name` (KEYHOLD_SERVER_BIN etc. override it)."""
    var = "KEYHOLD_" + name.removeprefix("keyhold-").upper() + "_BIN"
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.environ.get(var, os.path.join(target, "debug", name))


def check(name, ok, detail=""):
    RESULTS.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""))


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def systemd_unit():
    text = open(UNIT).read()
    binary = debug_bin("keyhold-server")
    if not os.path.exists(binary):
        check("systemd: server binary to verify against", False, f"{binary} missing (cargo build)")
        return
    with tempfile.TemporaryDirectory() as d:
        unit = os.path.join(d, "keyhold-server.service")
        with open(unit, "w") as f:
            f.write(text.replace("/usr/bin/keyhold-server", binary))
        code, out = run(["systemd-analyze", "verify", unit])
        check("systemd-analyze verify", code == 0 and not out.strip(), out.strip())
        code, out = run(["systemd-analyze", "security", "--offline=true", unit])
        m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
        level = float(m.group(1)) if m else 99.0
        check(f"systemd-analyze security: exposure {level} <= {MAX_EXPOSURE}",
              code == 0 and level <= MAX_EXPOSURE, out[-400:])
    settings = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
    want = {
        "User": "keyhold", "ProtectSystem": "strict", "PrivateTmp": "yes",
        "NoNewPrivileges": "yes", "MemoryDenyWriteExecute": "yes", "CapabilityBoundingSet": "",
        "ReadWritePaths": "/var/lib/keyhold",
    }
    for key, value in want.items():
        check(f"systemd: {key}={value}", settings.get(key) == value, settings.get(key, "absent"))
    check("systemd: SystemCallFilter", "SystemCallFilter=@system-service" in text)


def kubernetes():
    import yaml
    files = sorted(f for f in glob.glob(os.path.join(K8S, "*.yaml"))
                   if not f.endswith("kustomization.yaml"))
    code, out = run([os.path.join(VENV, "kubernetes-validate"), "--strict", "--quiet", *files])
    check(f"kubernetes-validate --strict ({len(files)} manifests)", code == 0, out)
    code, out = run([os.path.join(VENV, "yamllint"), "-s", "-d",
                     "{extends: default, rules: {line-length: {max: 100}, document-start: disable}}",
                     K8S])
    check("yamllint deploy/kubernetes", code == 0, out)
    dep = yaml.safe_load(open(os.path.join(K8S, "deployment.yaml")))
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    sc = c.get("securityContext", {})
    check("deployment: several replicas", dep["spec"].get("replicas", 1) >= 2)
    check("deployment: runAsNonRoot", pod.get("securityContext", {}).get("runAsNonRoot") is True)
    check("deployment: seccomp RuntimeDefault",
          pod.get("securityContext", {}).get("seccompProfile", {}).get("type") == "RuntimeDefault")
    check("deployment: readOnlyRootFilesystem", sc.get("readOnlyRootFilesystem") is True)
    check("deployment: allowPrivilegeEscalation false", sc.get("allowPrivilegeEscalation") is False)
    check("deployment: capabilities drop ALL", sc.get("capabilities", {}).get("drop") == ["ALL"])
    check("deployment: probes on /healthz and /readyz",
          c.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/healthz"
          and c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/readyz")
    res = c.get("resources", {})
    check("deployment: requests and limits", bool(res.get("requests")) and bool(res.get("limits")))
    names = {e["name"]: e for e in c.get("env", [])}
    check("deployment: master key from a Secret",
          "secretKeyRef" in names.get("KEYHOLD_MASTER_KEY", {}).get("valueFrom", {}))
    kinds = {yaml.safe_load(open(f))["kind"] for f in files}
    need = {"Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "Ingress"}
    check("kubernetes: every kind present", need <= kinds, str(need - kinds))


def containerfile():
    code, out = run([os.path.join(VENV, "hadolint"), CONTAINERFILE])
    check("hadolint deploy/Containerfile", code == 0, out)
    text = open(CONTAINERFILE).read()
    final = text.split("\nFROM ")[-1]
    user = re.search(r"^USER (\S+)", final, re.M)
    check("containerfile: non-root USER", bool(user) and user.group(1).split(":")[0] not in
          ("root", "0"), user.group(1) if user else "no USER")
    check("containerfile: HEALTHCHECK through the server binary",
          re.search(r'HEALTHCHECK[\s\S]*CMD \["/usr/bin/keyhold-server", "healthcheck"\]', final)
          is not None)


def main():
    systemd_unit()
    kubernetes()
    containerfile()
    packages.check_all(check, run, debug_bin, ROOT)
    failed = RESULTS.count(False)
    print(f"deploy checks: {len(RESULTS) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
