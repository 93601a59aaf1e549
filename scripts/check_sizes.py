#!/usr/bin/env python3
"""Keep Rust files under 500 lines and functions under 80 (docs/STYLE.md, issue 16).

Walks every *.rs file under crates/, src-tauri/src and tests/ (skipping build output),
prints each file and function over its limit, and exits 1 if any of them lies outside
ALLOWED below. Functions are measured from the line of their `fn` keyword to the line of
their closing brace, after blanking comments, strings and char literals so braces inside
them do not count.

Test functions (in files under a tests/ directory, or in a `#[cfg(test)]` module) are held
to the file limit but not the function limit unless `--tests-too` is given: an end-to-end
scenario reads top to bottom as one story, and 29 of them ran past 80 lines when this
check was written. The file limit still applies to them.

    python3 scripts/check_sizes.py [--root DIR] [--quiet] [--tests-too]
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_LINES = 500
MAX_FN_LINES = 80

# Where to look, relative to the repository root.
ROOTS = ("crates", "src-tauri/src", "tests")
# Directories never walked: build output and installed JavaScript.
SKIP_DIRS = {"target", "node_modules", ".git"}

# Paths (a file, or a directory ending in "/") whose offenders are reported but do not
# fail the check, each with why. Only work in progress belongs here: shrink it, never grow it.
ALLOWED: dict[str, str] = {
}


@dataclass
class Offender:
    path: str
    line: int
    what: str  # "file" or "fn NAME"
    lines: int
    limit: int

    def allowed_because(self) -> str | None:
        for prefix, reason in ALLOWED.items():
            if self.path == prefix or (prefix.endswith("/") and self.path.startswith(prefix)):
                return reason
        return None


_RAW_STRING = re.compile(r'b?r(#*)"')
_CHAR = re.compile(r"'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F_]{1,6}\}|.)|[^\\'\n])'")


def blank(source: str) -> str:
    """The source with comments, string and char literals replaced by spaces (newlines
    kept, so line numbers stay right)."""
    out: list[str] = []
    i, n = 0, len(source)

    def spaces(text: str) -> str:
        return "".join(c if c == "\n" else " " for c in text)

    while i < n:
        c = source[i]
        if source.startswith("//", i):
            end = source.find("\n", i)
            end = n if end < 0 else end
            out.append(spaces(source[i:end]))
            i = end
        elif source.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if source.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif source.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(spaces(source[i:j]))
            i = j
        elif (c in "rb") and (m := _RAW_STRING.match(source, i)) and not _ident_before(source, i):
            closing = '"' + m.group(1)
            end = source.find(closing, m.end())
            end = n if end < 0 else end + len(closing)
            out.append(spaces(source[i:end]))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and source[j] != '"':
                j += 2 if source[j] == "\\" else 1
            out.append(spaces(source[i : j + 1]))
            i = j + 1
        elif c == "'" and (m := _CHAR.match(source, i)):
            out.append(spaces(m.group(0)))
            i = m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _ident_before(source: str, i: int) -> bool:
    """Whether `source[i]` continues an identifier (`bar"` is not a raw string)."""
    return i > 0 and (source[i - 1].isalnum() or source[i - 1] == "_")


_FN = re.compile(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)")


def closing_brace(code: str, open_at: int) -> int:
    """Index of the `}` that closes the `{` at `open_at` (or the end of `code`)."""
    depth = 0
    for k in range(open_at, len(code)):
        if code[k] == "{":
            depth += 1
        elif code[k] == "}":
            depth -= 1
            if depth == 0:
                return k
    return len(code)


_TEST_MOD = re.compile(r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{")


def test_module_lines(code: str) -> list[tuple[int, int]]:
    """(first line, last line) of every `#[cfg(test)] mod x { … }` in blanked `code`."""
    spans = []
    for m in _TEST_MOD.finditer(code):
        end = closing_brace(code, m.end() - 1)
        spans.append((code.count("\n", 0, m.start()) + 1, code.count("\n", 0, end) + 1))
    return spans


def functions(code: str) -> list[tuple[str, int, int]]:
    """(name, first line, last line) of every function with a body in blanked `code`."""
    found = []
    for m in _FN.finditer(code):
        # The body starts at the first `{` outside the signature's () and []; a `;` first
        # means a declaration without a body (a trait method, an extern fn).
        depth, j = 0, m.end()
        while j < len(code):
            ch = code[j]
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            elif depth == 0 and ch in "{;":
                break
            j += 1
        if j >= len(code) or code[j] == ";":
            continue
        k = closing_brace(code, j)
        first = code.count("\n", 0, m.start()) + 1
        last = code.count("\n", 0, k) + 1
        found.append((m.group(1), first, last))
    return found


def check_file(path: Path, rel: str, tests_too: bool) -> list[Offender]:
    text = path.read_text(encoding="utf-8", errors="replace")
    offenders = []
    total = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    if total > MAX_FILE_LINES:
        offenders.append(Offender(rel, 1, "file", total, MAX_FILE_LINES))
    if "tests" in Path(rel).parts[:-1] and not tests_too:
        return offenders
    code = blank(text)
    test_spans = [] if tests_too else test_module_lines(code)
    for name, first, last in functions(code):
        length = last - first + 1
        in_test = any(a <= first <= b for a, b in test_spans)
        if length > MAX_FN_LINES and not in_test:
            offenders.append(Offender(rel, first, f"fn {name}", length, MAX_FN_LINES))
    return offenders


def rust_files(root: Path):
    for top in ROOTS:
        base = root / top
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.rs")):
            if SKIP_DIRS.intersection(path.relative_to(root).parts):
                continue
            yield path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--quiet", action="store_true", help="print only what fails")
    parser.add_argument(
        "--tests-too", action="store_true", help="hold test functions to the function limit too"
    )
    args = parser.parse_args()

    failing = 0
    files = 0
    for path in rust_files(args.root):
        files += 1
        rel = path.relative_to(args.root).as_posix()
        for o in check_file(path, rel, args.tests_too):
            reason = o.allowed_because()
            if reason is None:
                failing += 1
            elif args.quiet:
                continue
            verdict = "OVER" if reason is None else f"allowed ({reason})"
            print(f"{o.path}:{o.line}: {o.what}: {o.lines} lines > {o.limit}: {verdict}")
    if failing:
        print(
            f"check_sizes: {failing} file(s) or function(s) over the limit "
            f"({MAX_FILE_LINES} lines a file, {MAX_FN_LINES} a function): split them by what "
            "they do",
            file=sys.stderr,
        )
        return 1
    print(
        f"sizes: ok ({files} Rust files; none over {MAX_FILE_LINES} lines, no function over "
        f"{MAX_FN_LINES} outside end-to-end scenarios)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
