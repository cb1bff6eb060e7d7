"""What the subject and staff read, in Swedish or English."""

from __future__ import annotations

from gallra.policy.words import i

KEPT = {
    "law": (
        "sparas enligt lag ({detail}) till och med {until}",
        "kept by law ({detail}) until {until}",
    ),
    "hold": (
        "sparas på grund av {detail} till och med {until}",
        "kept because of {detail} until {until}",
    ),
    "hold_open": (
        "sparas på grund av {detail} tills vidare",
        "kept because of {detail} until further notice",
    ),
    "contract": (
        "kundavtalet: raderas enligt gallringsreglerna, senast {until}",
        "the customer agreement: deleted under the retention rules, at the latest {until}",
    ),
    "contract_open": (
        "kundavtalet gäller: raderas enligt gallringsreglerna när avtalet upphört",
        "the customer agreement is active: deleted under the retention rules once it ends",
    ),
    "dependant": ("behövs av en post som sparas", "needed by a record that is kept"),
}
LABELS = {
    "title": ("Dina personuppgifter hos {org}", "Your personal data at {org}"),
    "intro": (
        "Det här är allt {org} har om dig, per kategori: vad, varför, sedan när och när det "
        "raderas. Filen data.json innehåller samma uppgifter maskinläsbart.",
        "This is everything {org} holds about you, per category: what, why, since when and "
        "when it is deleted. The file data.json holds the same data in machine-readable form.",
    ),
    "request": ("Begäran", "Request"),
    "generated": ("Sammanställd", "Generated"),
    "purpose": ("Varför", "Why"),
    "basis": ("Rättslig grund", "Legal basis"),
    "since": ("Sedan", "Since"),
    "deleted": ("Raderas", "Deleted"),
    "where": ("Var", "Where"),
    "what": ("Uppgifter", "Data"),
    "redacted": ("uppgift om en annan person, dold", "data about another person, hidden"),
    "nothing": ("Vi har inga personuppgifter om dig.", "We hold no personal data about you."),
    "responsible": ("Ansvarig", "Responsible"),
    "rights": (
        "Du har rätt att få felaktiga uppgifter rättade, begära radering eller begränsning, "
        "invända mot behandling och klaga hos Integritetsskyddsmyndigheten (IMY).",
        "You have the right to have wrong data corrected, to ask for erasure or restriction, "
        "to object to processing, and to complain to the Swedish Authority for Privacy "
        "Protection (IMY).",
    ),
    "cert_title": ("Intyg om radering", "Erasure certificate"),
    "cert_intro": (
        "{org} har raderat personuppgifterna i begäran {ref} ({email}), mottagen {received}.",
        "{org} has erased the personal data of request {ref} ({email}), received {received}.",
    ),
    "cert_deleted": ("Raderat", "Erased"),
    "cert_kept": ("Sparas, med skäl", "Kept, with the reason"),
    "cert_evidence": ("Bevis: händelselogg nr {seqs}", "Evidence: event log entries {seqs}"),
    "rows": ("poster", "records"),
    "overwritten": ("avidentifierade", "de-identified"),
    "completed": ("Slutförd", "Completed"),
}


def label(key: str, lang: str, **values) -> str:
    return LABELS[key][i(lang)].format(**values)


def kept_words(reason: str, until, detail: str, lang: str) -> str:
    if reason in ("hold", "contract") and until is None:
        reason += "_open"
    return KEPT[reason][i(lang)].format(until=until, detail=detail)
