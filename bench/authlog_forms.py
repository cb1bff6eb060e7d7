"""What gallra reads from a log that mixes the real forms of sshd's lines, next to what
fail2ban-regex with Debian's stock sshd filter matches in the same file (issue 16, item 14).

Run from the project root:

    .venv/bin/python bench/authlog_forms.py
    .venv/bin/python bench/authlog_forms.py --log OTHER.log --forms OTHER.json

The log is src/gallra/logins/tests/data/authlog_forms.log: synthetic (documentation
addresses, made-up names), written in sshd's real formats, one block of lines per form;
authlog_forms.json beside it names the forms in file order with their line counts. The test
test_hostile_logins.py holds what gallra must read from each form.

* gallra: its parser (gallra.logins.sshd, the one `gallra logins ingest` uses) reads each
  line: events by outcome (failure; aborted = closed before authentication; success) or the
  line skipped under a category (`sshd, not a login event`, `other`, `malformed: ...`).
* fail2ban: `fail2ban-regex -r --print-all-matched --print-all-ignored --print-all-missed
  FILE /etc/fail2ban/filter.d/sshd.conf` (Debian's package: apt-get install fail2ban,
  as root; the script runs without it and says so) puts each line in one of three groups: matched (a
  failure, counted towards a ban), ignored (matched by a rule marked no-failure, such as
  Accepted or pam_unix's line) and missed. Each line of the file has its own PID, by which
  it is found again in fail2ban's output.

It prints a table and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
from gallra.logins import sshd  # noqa: E402 (src/ itself, put on the path just above)

DATA = ROOT / "src" / "gallra" / "logins" / "tests" / "data"
SSHD_FILTER = Path("/etc/fail2ban/filter.d/sshd.conf")
PID = re.compile(r" [^\s\[]+\[(\d+)\]: ")
SHORT = {sshd.NOT_LOGIN: "not login", sshd.OTHER: "other program"}


def gallra_reads(lines: list[str]) -> Counter:
    """Events by outcome, and skipped lines by category, as gallra's parser reads them."""
    times = sshd.Timestamps(ZoneInfo("Europe/Stockholm"), datetime.now(UTC))
    read: Counter = Counter()
    for line in lines:
        found = sshd.parse_line(line, times)
        if isinstance(found, str):
            read[SHORT.get(found, found)] += 1
        else:
            read.update(attempt.outcome for attempt in found)
            if type(found) is sshd.Capped:
                read[found.skipped] += 1
    return read


def fail2ban_groups(log: Path) -> tuple[dict[str, str], str] | None:
    """{pid: matched/ignored/missed} for each line, and fail2ban's version; None without it."""
    tool = shutil.which("fail2ban-regex")
    if not tool or not SSHD_FILTER.exists():
        print(
            "fail2ban-regex or its stock sshd filter is missing: install Debian's package "
            "(apt-get install fail2ban, as root).\n"
        )
        return None
    version = subprocess.run([tool, "-V"], capture_output=True, text=True).stdout.strip()
    argv = [
        tool,
        "-r",
        "--print-all-matched",
        "--print-all-ignored",
        "--print-all-missed",
        str(log),
        str(SSHD_FILTER),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        raise SystemExit(f"fail2ban-regex failed ({done.returncode}):\n{done.stderr[-2000:]}")
    groups, group = {}, None
    for line in done.stdout.splitlines():
        if heading := re.match(r"\|- (Matched|Ignored|Missed) line\(s\):", line):
            group = heading[1].lower()
        elif line.startswith("`-"):
            group = None
        elif group and line.startswith("|  ") and (pid := PID.search(line)):
            groups[pid[1]] = group
    return groups, version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--log", type=Path, default=DATA / "authlog_forms.log")
    parser.add_argument("--forms", type=Path, default=DATA / "authlog_forms.json")
    args = parser.parse_args()
    forms = json.loads(args.forms.read_text())["forms"]
    lines = args.log.read_text().splitlines()
    if sum(f["lines"] for f in forms) != len(lines):
        raise SystemExit(
            f"{args.forms} counts {sum(f['lines'] for f in forms)} lines, "
            f"{args.log} has {len(lines)}"
        )
    found = fail2ban_groups(args.log)
    groups, version = found if found else ({}, "")
    print(
        f"{args.log.relative_to(ROOT) if args.log.is_relative_to(ROOT) else args.log}: "
        f"{len(lines)} lines, {len(forms)} forms"
    )
    if version:
        print(f"fail2ban-regex {version}, {SSHD_FILTER} (mode normal)")
    print()
    head = f"{'form':28} {'lines':>5}  {'gallra reads':32} {'fail2ban: failures':>18}  seen  missed"
    print(head)
    print("-" * len(head))
    total_gallra: Counter = Counter()
    total_f2b: Counter = Counter()
    start = 0
    for form in forms:
        block = lines[start : start + form["lines"]]
        start += form["lines"]
        read = gallra_reads(block)
        total_gallra.update(read)
        f2b = Counter(groups.get(m[1], "?") if (m := PID.search(line)) else "?" for line in block)
        total_f2b.update(f2b)
        shown = ", ".join(f"{n} {what}" for what, n in sorted(read.items()))
        cells = (
            f"{f2b['matched']:>18}  {f2b['ignored']:>4}  {f2b['missed']:>6}"
            if groups
            else f"{'-':>18}  {'-':>4}  {'-':>6}"
        )
        print(f"{form['form']:28} {form['lines']:>5}  {shown:32} {cells}")
    print("-" * len(head))
    shown = ", ".join(f"{n} {what}" for what, n in sorted(total_gallra.items()))
    print(f"{'all':28} {len(lines):>5}  {shown}")
    if groups:
        print(
            f"{'':28} {'':>5}  {'':32} {total_f2b['matched']:>18}  "
            f"{total_f2b['ignored']:>4}  {total_f2b['missed']:>6}"
        )
    print(
        "\ngallra: failure/aborted/success are events (a `message repeated N times` line is N);"
        "\n`not login` and `other program` are lines counted and dropped. fail2ban: failures "
        "are\nmatched lines, `seen` its no-failure matches, `missed` lines no rule matched."
    )


if __name__ == "__main__":
    main()
