"""Mail in the words of `enforce` and `gallra mail`, in Swedish or English."""

from __future__ import annotations

LINES = {
    "rule": (
        "  {rule}: {count} e-postmeddelanden ({mailbox})",
        "  {rule}: {count} mail messages ({mailbox})",
    ),
    "resumed": (
        "  varav {n} raderade av en avbruten körning och registrerade nu",
        "  of which {n} deleted by an interrupted run, recorded now",
    ),
    "unmarked": (
        "  {n} meddelanden sparas ändå (spärrade sedan den avbrutna körningen)",
        "  {n} messages kept after all (held since the interrupted run)",
    ),
    "unreadable": (
        "  E-post som inte kan läsas sparas: {where}",
        "  Unreadable mail is kept: {where}",
    ),
    "problem": ("  E-postlåda FEL: {problem}", "  Mailbox FAILED: {problem}"),
    "scanned": (
        "E-post läst: {messages} meddelanden, {due} förfallna den {at}.",
        "Mail scanned: {messages} messages, {due} due on {at}.",
    ),
    "dry_run": (
        "Torrkörning för {at}: {due} e-postmeddelanden skulle raderas.",
        "Dry run for {at}: {due} mail messages would be deleted.",
    ),
    "enforced": (
        "E-post för {at}: {deleted} meddelanden raderade.",
        "Mail for {at}: {deleted} messages deleted.",
    ),
}


def _say(key: str, lang: str, **values) -> str:
    return LINES[key][0 if lang == "sv" else 1].format(**values)


def summary_lines(mail: dict, lang: str) -> list[str]:
    """The lines a mail summary (MailSummary.as_dict) adds to an enforcement summary."""
    lines = [_say("rule", lang, **item) for item in mail.get("by_rule", [])]
    if mail.get("resumed"):
        lines.append(_say("resumed", lang, n=mail["resumed"]))
    if mail.get("unmarked"):
        lines.append(_say("unmarked", lang, n=mail["unmarked"]))
    lines += [_say("unreadable", lang, where=w) for w in mail.get("unreadable", [])]
    lines += [_say("problem", lang, problem=p) for p in mail.get("problems", [])]
    return lines


def heading(mail: dict, lang: str, scan_only: bool = False) -> str:
    if scan_only:
        return _say("scanned", lang, **mail)
    return _say("dry_run" if mail["dry_run"] else "enforced", lang, **mail)
