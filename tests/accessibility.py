"""Accessibility checks of the rendered documents (WCAG 2.2 AA; PDF/UA-1), shared by the tests and
runnable by hand on any rendered files:

    .venv/bin/python tests/accessibility.py _output/*.pdf _output/*.html

PDF: ``pdfua`` (the machine-checkable part of PDF/UA-1), each tagged figure's alternative text and the
catalogue's title, language, DisplayDocTitle and PDF/UA identification, read with pikepdf.
HTML: the landmarks and table header cells (parsed), and axe-core run in headless Chromium, driven over
the DevTools protocol on a pipe (no browser automation package): needs Debian's ``chromium`` and
axe-core from npm, installed on first use into the git-ignored ``.cache/axe`` (``AXE_CORE_JS`` names
another copy of ``axe.min.js``).
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AXE_VERSION = "4.14.1"
AXE_DIR = ROOT / ".cache" / "axe"
#: the WCAG 2.0-2.2 A and AA rules and axe's best practices (landmarks, heading order, ...)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
SEVERE = ("serious", "critical")


# -- PDF ------------------------------------------------------------------------------------------

def pdfua_findings(pdf: Path) -> list[str]:
    """Every ``pdfua`` finding (rule, severity, place, message), errors first."""
    from pdfua import validate

    report = validate(str(pdf))
    found = sorted(report.findings, key=lambda f: -f.severity.value)
    return [f"{f.severity.name} {f.rule_id} {f.location.describe()}: {f.message}" for f in found]


def pdfua_errors(pdf: Path) -> list[str]:
    from pdfua import Severity, validate

    report = validate(str(pdf))
    return [f"{f.rule_id} {f.location.describe()}: {f.message}" for f in report.findings
            if f.severity == Severity.ERROR]


def _struct_elements(pdf: Any) -> list[Any]:
    """Every structure element of the tagged PDF, in tree order."""
    import pikepdf

    root = pdf.Root.get("/StructTreeRoot")
    out: list[Any] = []
    seen: set[tuple[int, int]] = set()

    def walk(node: Any) -> None:
        if isinstance(node, pikepdf.Array):
            for kid in node:
                walk(kid)
            return
        if not isinstance(node, pikepdf.Dictionary):
            return
        if node.is_indirect:
            if node.objgen in seen:
                return
            seen.add(node.objgen)
        if "/S" in node:
            out.append(node)
        if "/K" in node:
            walk(node.K)

    if root is not None and "/K" in root:
        walk(root.K)
    return out


def _role(element: Any, role_map: Any) -> str:
    role = str(element.S)
    if role_map is not None and role in role_map:
        return str(role_map[role])
    return role


def pdf_facts(path: Path) -> dict[str, Any]:
    """What a reader needs from the catalogue and the tags: title, language, DisplayDocTitle, PDF/UA
    identification, and each Figure's alternative text (None when it has none)."""
    import pikepdf

    with pikepdf.open(path) as pdf:
        root = pdf.Root
        prefs = root.get("/ViewerPreferences")
        tree = root.get("/StructTreeRoot")
        role_map = tree.get("/RoleMap") if tree is not None else None
        figures = []
        headings = []
        for el in _struct_elements(pdf):
            role = _role(el, role_map)
            if role == "/Figure":
                alt = el.get("/Alt") or el.get("/ActualText")
                figures.append(str(alt) if alt is not None else None)
            elif len(role) == 3 and role.startswith("/H") and role[2].isdigit():
                headings.append(int(role[2]))
        meta = pdf.open_metadata()
        return {
            "title": str(pdf.docinfo.get("/Title", "")) or meta.get("dc:title"),
            "lang": str(root.get("/Lang", "")),
            "display_doc_title": bool(prefs is not None and prefs.get("/DisplayDocTitle") is True),
            "pdfua_part": meta.get("pdfuaid:part"),
            "marked": bool(root.get("/MarkInfo") is not None and root.MarkInfo.get("/Marked") is True),
            "figures": figures,
            "headings": headings,
        }


# -- HTML: structure ------------------------------------------------------------------------------

class _Structure(HTMLParser):
    """Landmarks, headings in order, and table header cells of an HTML page."""

    LANDMARKS = {"main": "main", "nav": "navigation", "header": "banner", "footer": "contentinfo",
                 "aside": "complementary"}
    SECTIONING = ("article", "aside", "main", "nav", "section")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.landmarks: list[str] = []
        self.headings: list[int] = []
        self.th_without_scope = 0
        self.th = 0
        self.in_thead = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        role = a.get("role")
        if tag in self.LANDMARKS:
            inside = any(t in self.SECTIONING for t in self.stack)
            # header and footer are page landmarks only outside sectioning elements
            if tag in ("main", "nav", "aside") or not inside:
                self.landmarks.append(self.LANDMARKS[tag] if not role or role.startswith("doc-") else role)
        elif role in ("main", "navigation", "banner", "contentinfo", "complementary", "region"):
            self.landmarks.append(role)
        if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.headings.append(int(tag[1]))
        if tag == "th":
            self.th += 1
            if not a.get("scope") and not a.get("headers") and not a.get("id"):
                self.th_without_scope += 1
        if tag not in ("br", "img", "meta", "link", "input", "hr", "col", "source", "wbr", "area", "base"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass


def html_structure(path: Path) -> dict[str, Any]:
    parser = _Structure()
    parser.feed(path.read_text(encoding="utf-8"))
    return {"landmarks": parser.landmarks, "headings": parser.headings, "th": parser.th,
            "th_without_scope": parser.th_without_scope}


def skipped_heading_levels(levels: list[int]) -> list[str]:
    """Each place a heading goes more than one level deeper than the one before it."""
    out = []
    for before, after in zip(levels, levels[1:]):
        if after > before + 1:
            out.append(f"h{before} followed by h{after}")
    return out


# -- HTML: axe-core in headless Chromium ----------------------------------------------------------

def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def axe_script(install: bool = True) -> Path | None:
    """axe-core's ``axe.min.js``: ``AXE_CORE_JS``, or ``.cache/axe``, installed there with npm if missing."""
    given = os.environ.get("AXE_CORE_JS")
    if given:
        return Path(given) if Path(given).is_file() else None
    js = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if js.is_file() or not install or shutil.which("npm") is None:
        return js if js.is_file() else None
    AXE_DIR.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(["npm", "install", "--prefix", str(AXE_DIR), "--no-audit", "--no-fund", "--loglevel=error",
                        f"axe-core@{AXE_VERSION}"], check=True, capture_output=True, timeout=300)
    except (subprocess.SubprocessError, OSError):
        return None
    return js if js.is_file() else None


class _DevTools:
    """Chromium's DevTools protocol over --remote-debugging-pipe (fd 3 in, fd 4 out; NUL-separated JSON)."""

    def __init__(self, browser: str, profile: str, width: int = 1280, height: int = 900) -> None:
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # the child's ends, moved clear of 3 and 4 before the child puts them there
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in (to_browser_r, from_browser_w)]
        os.close(to_browser_r)
        os.close(from_browser_w)

        def child_fds() -> None:
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}",
               f"--window-size={width},{height}", "--remote-debugging-pipe", "about:blank"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, pass_fds=(3, 4, *high), preexec_fn=child_fds)
        for fd in high:
            os.close(fd)
        self.out = os.fdopen(to_browser_w, "wb", buffering=0)
        self.inp = os.fdopen(from_browser_r, "rb", buffering=0)
        self.buf = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self.buf:
            chunk = self.inp.read(1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.out.write(json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, session: str) -> dict[str, Any]:
        while True:
            for i, ev in enumerate(self.events):
                if ev.get("method") == method and ev.get("sessionId") == session:
                    return self.events.pop(i)
            self.events.append(self._read())

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError, ValueError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for f in (self.out, self.inp):
            try:
                f.close()
            except OSError:
                pass


def axe_violations(pages: list[Path], axe_js: Path, browser: str, tags: list[str] | None = None) -> dict[Path, list[dict]]:
    """axe-core's violations on each page (rule id, impact, help, the first few offending nodes)."""
    source = axe_js.read_text(encoding="utf-8")
    run = ("axe.run(document, {runOnly: {type: 'tag', values: %s}, resultTypes: ['violations']})"
           ".then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
           "count: v.nodes.length, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))))") % json.dumps(tags or AXE_TAGS)
    out: dict[Path, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="axe-chromium-") as profile:
        dt = _DevTools(browser, profile)
        try:
            for page in pages:
                target = dt.send("Target.createTarget", {"url": "about:blank"})["targetId"]
                session = dt.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
                dt.send("Page.enable", session=session)
                dt.send("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
                dt.wait_event("Page.loadEventFired", session)
                dt.send("Runtime.evaluate", {"expression": source}, session=session)
                res = dt.send("Runtime.evaluate", {"expression": run, "awaitPromise": True, "returnByValue": True},
                              session=session)
                if "exceptionDetails" in res:
                    raise RuntimeError(f"axe-core failed on {page}: {res['exceptionDetails']}")
                out[page] = json.loads(res["result"]["value"])
                dt.send("Target.closeTarget", {"targetId": target})
        finally:
            dt.close()
    return out


def main(argv: list[str]) -> int:
    failed = False
    pdfs = [Path(a) for a in argv if a.endswith(".pdf")]
    pages = [Path(a) for a in argv if a.endswith(".html")]
    for pdf in pdfs:
        found = pdfua_findings(pdf)
        facts = pdf_facts(pdf)
        missing = sum(alt is None or not alt.strip() for alt in facts["figures"])
        print(f"{pdf}: pdfua {len(found)} findings; {len(facts['figures'])} figures, {missing} without alternative "
              f"text; title {facts['title']!r}; DisplayDocTitle {facts['display_doc_title']}; "
              f"PDF/UA part {facts['pdfua_part']}")
        for f in found:
            print("   ", f)
        failed |= bool(found) or missing > 0
    if pages:
        browser, js = chromium(), axe_script()
        for page in pages:
            s = html_structure(page)
            print(f"{page}: landmarks {s['landmarks']}; skipped heading levels {skipped_heading_levels(s['headings'])}; "
                  f"{s['th_without_scope']} of {s['th']} th without scope")
        if browser is None or js is None:
            print("axe-core not run: needs chromium and axe-core (npm)")
        else:
            for page, violations in axe_violations(pages, js, browser).items():
                print(f"{page}: axe-core {len(violations)} violations")
                for v in violations:
                    print(f"    {v['impact']}: {v['id']} ({v['count']}) {v['help']}: {', '.join(v['nodes'])}")
                    failed |= v["impact"] in SEVERE
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
