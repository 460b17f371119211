#!/usr/bin/env python3
"""Runs the Argo CD health check of docs/gitops.md (Lua 5.1, as Argo CD's
gopher-lua) on one object per row of the condition tables in
docs/api-reference.template.md, and checks that Argo CD would show what the
table in docs/gitops.md promises for that phase or reason.

  docs/check-argocd-health.py    exit 1, naming the rows, when they disagree
"""
import importlib.util
import json
import pathlib
import re
import subprocess
import sys

import yaml

DOCS = pathlib.Path(__file__).resolve().parent
ARGO_STATES = ["Healthy", "Progressing", "Suspended", "Degraded"]

# The API reference generator's table reader (cells split on unescaped '|').
_spec = importlib.util.spec_from_file_location("gen_api_reference", DOCS / "gen-api-reference.py")
gen_api_reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_api_reference)


def section(text, heading):
    start = text.index(heading)
    following = re.search(r"^## ", text[start + len(heading):], re.M)
    return text[start:start + len(heading) + following.start()] if following else text[start:]


def health_scripts(gitops):
    argo = section(gitops, "## Argo CD")
    block = re.search(r"```yaml\n(.*?)```", argo, re.S).group(1)
    data = yaml.safe_load(block)["data"]
    return {kind: data[f"resource.customizations.health.cd4ml.io_{kind}"]
            for kind in ("TrainingRun", "ModelRelease")}


def table_rows(text, header_start):
    """The body rows of the table whose header line starts with `header_start`."""
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    return gen_api_reference.table_after(lines, header - 1)


def ticks(cell):
    return re.findall(r"`([^`]+)`", cell)


def promised(gitops):
    """kind -> {phase or reason: Argo CD state} from the gitops.md table."""
    out = {}
    for row in table_rows(gitops, "| Object | Healthy |"):
        # Remarks in parentheses name no phase or reason of that column.
        cells = [re.sub(r"\([^)]*\)", "", cell) for cell in row[1:]]
        out[row[0]] = {name: state for state, cell in zip(ARGO_STATES, cells) for name in ticks(cell)}
    return out


def condition_rows(reference):
    """(kind, phase, reason, Ready, Reconciling, Stalled) per reason in the tables."""
    rows = []
    for row in table_rows(reference, "| Phase | `Ready` | `Reconciling` | `Stalled` | Reason"):
        phase = ticks(row[0])[0]
        reasons = ticks(row[4]) or [phase]
        for reason in reasons:
            rows.append(("TrainingRun", phase, reason, row[1], row[2], row[3]))
    for row in table_rows(reference, "| Phase | Reasons | `Ready` | `Reconciling` | `Stalled` |"):
        phase = ticks(row[0])[0]
        for reason in ticks(row[1]):
            if reason in ("Pending",):  # "(or phase `Pending`)": a phase, not a reason
                continue
            rows.append(("ModelRelease", phase, reason, row[2], row[3], row[4]))
    return rows


def lua_value(value):
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{json.dumps(k)}] = {lua_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "{" + ", ".join(lua_value(v) for v in value) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def run_health(script, obj):
    program = (f"obj = {lua_value(obj)}\n"
               f"local function check()\n{script}\nend\n"
               "local hs = check()\n"
               "io.write(hs.status, '\\n', hs.message or '', '\\n')\n")
    result = subprocess.run(["lua5.1", "-"], input=program, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"lua5.1 failed: {result.stderr}")
    status, message = result.stdout.split("\n", 1)
    return status, message.strip()


def release(kind, phase, reason, ready, reconciling, stalled, generation=3, observed=3):
    message = f"what {reason} says"
    conditions = [{"type": t, "status": s, "reason": reason, "message": message}
                  for t, s in (("Ready", ready), ("Reconciling", reconciling), ("Stalled", stalled))]
    return {"kind": kind, "metadata": {"generation": generation},
            "status": {"phase": phase, "observedGeneration": observed, "conditions": conditions}}


def main():
    gitops = (DOCS / "gitops.md").read_text()
    reference = (DOCS / "api-reference.template.md").read_text()
    scripts = health_scripts(gitops)
    table = promised(gitops)
    problems = []
    checked = 0
    for kind, phase, reason, ready, reconciling, stalled in condition_rows(reference):
        want = table[kind].get(reason) or table[kind].get(phase)
        if want is None:
            problems.append(f"{kind} {phase}/{reason}: not in the gitops.md table")
            continue
        got, message = run_health(scripts[kind], release(kind, phase, reason, ready, reconciling,
                                                         stalled))
        checked += 1
        if got != want:
            problems.append(f"{kind} {phase}/{reason}: the script says {got}, the table {want}")
        if got != "Healthy" and reason not in message:
            problems.append(f"{kind} {phase}/{reason}: message {message!r} does not say why")
    # Before the operator has written status, or caught up with a new spec.
    for kind, script in scripts.items():
        for obj in ({"kind": kind, "metadata": {"generation": 1}},
                    release(kind, "Healthy", "Healthy", "True", "False", "False", 4, 3)):
            got, _ = run_health(script, obj)
            checked += 1
            if got != "Progressing":
                problems.append(f"{kind} without current status: {got}, expected Progressing")
    for problem in problems:
        print(f"check-argocd-health: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"check-argocd-health: {checked} objects judged as docs/gitops.md says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
