"""Benchmark gallra's personal-data scanner (gallra.scanner.scan) against Microsoft Presidio's
analyzer: throughput on 100 MB of mixed Swedish/English text, and precision and recall per
kind on the labelled corpus.

Run from the project root:

    .venv/bin/python bench/scan.py                      # 100 MB; Presidio on the first 5 MB
    .venv/bin/python bench/scan.py --mb 10              # a quick try
    .venv/bin/python bench/scan.py --presidio-mb 1 --presidio-budget 60

Presidio is not a dependency of gallra: on the first run this script makes a venv of its own
for it, /tmp/gallra-bench-scan/presidio-venv (`python -m venv`, then `pip install
presidio-analyzer` from PyPI; not timed), and runs Presidio in a process of that venv's
python. gallra's scanner runs in a process of the project's .venv python, so it is imported
afresh by every run. Both processes are this same file (--worker) and run one after the
other, never side by side; each reads its input from a file before its clock starts and
writes its findings to a JSON file afterwards.

Presidio without an NLP model (none can be downloaded here): AnalyzerEngine with Presidio's
own NoOpNlpEngine (no tokens, no lemmas, no entities; so its context words cannot raise
scores), languages en and sv. Its predefined recognizers as its default configuration loads
them for en, minus SpacyRecognizer (needs NLP), plus the Swedish ones its configuration
ships disabled: SePersonnummerRecognizer (SE_PERSONNUMMER, samordningsnummer included) and
SeOrganisationsnummerRecognizer, under sv. PhoneRecognizer with its default regions plus SE.
Every generic recognizer is kept once, under en, so each recognizer runs once per text: a
text is analysed with language="en" and then language="sv". Presidio's default score
threshold is kept: AnalyzerEngine(default_score_threshold=0), so every scored result counts.
PERSON needs an NLP model, so Presidio finds no names here.

Presidio's entity types against gallra's kinds: EMAIL_ADDRESS = email, PHONE_NUMBER = phone
or phone_intl (right when it overlaps a label of either), SE_PERSONNUMMER = personnummer or
samordningsnummer (likewise), IBAN_CODE = iban, IP_ADDRESS = ip. Presidio has nothing for
address, bank_account (US_BANK_NUMBER is a US number) or name (without NLP): "-" in the
table. Its other types (DATE_TIME, URL, SE_ORGANISATIONSNUMMER, US_*, ...) are counted but
not scored.

* Throughput. The text: corpus documents (gallra.scanner.corpus, seed --seed + 1) spread among
  filler paragraphs of plain Swedish and English prose, meeting notes, company footers
  (organisation, VAT, bankgiro and OCR numbers), links and log excerpts (made below, seeded;
  with dates, times, amounts, versions, ticket numbers and sizes, but no personal data), the
  corpus documents about 10% of the bytes. It comes as messages of 1-8 paragraphs (about
  1.1 KB each), and both tools are handed the same messages one at a time: MB = 10^6 bytes
  of UTF-8, MB/s = bytes of the messages / seconds of the loop that scans them (the text
  already in memory; making the scanner or the engine not counted, shown apart as set-up).
  The CPU seconds of the loop are shown too, as the machine may be shared. The text is kept
  in /tmp/gallra-bench-scan/ and made again only when the size, the seed or the generator
  (this file's filler code, corpus.py) changed. Presidio, at about 0.1 MB/s, gets the first
  --presidio-mb MB (stopping early after --presidio-budget seconds; then the slice is what
  it finished); gallra gets the same slice, for a like-for-like figure, and all of the text.
  The slice runs read a file of the slice alone. Besides, "Presidio lean", not what the
  target is measured against: only the recognizers of the five types that map to gallra's
  kinds, and PhoneRecognizer with region SE alone (at most 60 s of the slice). Memory, of
  each scanning process: its RSS before the loop (text loaded, scanner or engine made), its
  peak during the loop (VmHWM, reset through /proc/self/clear_refs before the loop; the
  findings the benchmark keeps count in it) and its peak while reading the file (which
  holds the text twice for a moment). ru_maxrss is not used: it keeps this script's
  high-water mark across fork and exec.
  Precision and recall on this text as well, against its corpus documents' labels (findings
  in the filler count as wrong), with examples of what each tool got wrong or missed; and
  the findings in the filler, all false positives by construction, per kind (every Presidio
  type included) with examples.
* Precision and recall per kind on the labelled corpus: corpus(--documents 3000,
  seed=--seed 7; the tests use seed 1), the subjects' names given to gallra's scanner. A
  finding is right when it overlaps a label of its kind (for Presidio's phone, either phone
  kind; for its personal number, either number kind). Precision = right findings / findings
  of the kind; recall = labels overlapped by a finding of their kind. For Presidio's grouped
  kinds the precision of the group is shown on both rows; the group rows compare both tools
  the same way.
* Technical text: gallra.scanner.technical (--technical-lines entries of each of its kinds
  of log, configuration and code, seed --seed), scanned by gallra in this process. Its only
  personal data are the IP and e-mail addresses such files hold, labelled; every other
  finding is false. Printed per kind of file: bytes, labels found, false findings (with
  examples), and gallra's CPU MB/s on it.

Target: gallra at least 30x Presidio's MB/s, with better precision and recall on every kind.
The script prints numbers; nothing is asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(tempfile.gettempdir()) / "gallra-bench-scan"
PRESIDIO_VENV = CACHE / "presidio-venv"
GALLRA_PYTHON = ROOT / ".venv" / "bin" / "python"
MB = 1_000_000
TARGET = 30.0
SEP = "\0"  # between messages in the text file; never in the text

# Presidio's entity types -> the gallra kinds a finding of it may rightly overlap.
PRESIDIO_KINDS = {
    "EMAIL_ADDRESS": ("email",),
    "PHONE_NUMBER": ("phone", "phone_intl"),
    "SE_PERSONNUMMER": ("personnummer", "samordningsnummer"),
    "IBAN_CODE": ("iban",),
    "IP_ADDRESS": ("ip",),
}
GROUPS = {
    "personnummer": ("personnummer", "samordningsnummer"),
    "samordningsnummer": ("personnummer", "samordningsnummer"),
    "phone": ("phone", "phone_intl"),
    "phone_intl": ("phone", "phone_intl"),
}


# -- the workers (run in their own processes) --------------------------------------------------


def rss_now() -> float:
    """This process's resident set now, MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def reset_peak() -> None:
    """Start VmHWM afresh at the current RSS (Linux 4.0 and later)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss() -> float:
    """This process's peak resident set, MB: VmHWM, not ru_maxrss, which keeps the high-water
    mark of the parent's address space across fork and exec."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def presidio_engine(lean: bool = False):
    """Presidio's AnalyzerEngine without NLP (see the module docstring); its description.
    lean: only the recognizers of the types that map to gallra's kinds, phone region SE."""
    import logging
    from importlib.metadata import version

    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        PhoneRecognizer,
        SeOrganisationsnummerRecognizer,
        SePersonnummerRecognizer,
        SpacyRecognizer,
    )

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    languages = ["en", "sv"]
    nlp = NoOpNlpEngine(models=[{"lang_code": lang, "model_name": "no_op"} for lang in languages])
    nlp.load()
    registry = RecognizerRegistry(supported_languages=languages)
    registry.load_predefined_recognizers(languages=languages, nlp_engine=nlp)
    # Each recognizer once: the generic ones (loaded for both languages) under en only.
    registry.recognizers = [
        r
        for r in registry.recognizers
        if r.supported_language == "en" and not isinstance(r, (SpacyRecognizer, PhoneRecognizer))
    ]
    regions = ("SE",) if lean else (*PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS, "SE")
    registry.add_recognizer(PhoneRecognizer(supported_language="en", supported_regions=regions))
    registry.add_recognizer(SePersonnummerRecognizer(supported_language="sv"))
    registry.add_recognizer(SeOrganisationsnummerRecognizer(supported_language="sv"))
    if lean:
        registry.recognizers = [
            r for r in registry.recognizers if set(r.supported_entities) & set(PRESIDIO_KINDS)
        ]
    engine = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=languages)
    described = {
        "version": version("presidio-analyzer"),
        "phonenumbers": version("phonenumbers"),
        "threshold": engine.default_score_threshold,
        "nlp_engine": type(nlp).__name__,
        "regions": list(regions),
        "recognizers": {
            lang: sorted(
                f"{type(r).__name__} ({', '.join(r.supported_entities)})"
                for r in registry.recognizers
                if r.supported_language == lang
            )
            for lang in languages
        },
    }
    return engine, described


def worker(args: argparse.Namespace) -> None:
    """Scan the input with one tool; write timings and findings as JSON to args.out."""
    texts = Path(args.input).read_text(encoding="utf-8")
    if args.job == "accuracy":
        data = json.loads(texts)
        texts, names = data["texts"], data["names"]
    else:
        texts = texts.split(SEP)
        names = json.loads(Path(args.names).read_text())
        if args.chunks:
            texts = texts[: args.chunks]
    start = time.perf_counter()
    if args.worker == "gallra":
        from gallra.scanner.scan import Scanner

        scanner = Scanner(names)
        described = {"module": sys.modules[Scanner.__module__].__file__}

        def scan(text: str) -> list:
            return [(f.start, f.end, f.kind, 1.0) for f in scanner.scan(text)]

    else:
        engine, described = presidio_engine(lean=args.worker == "presidio-lean")
        engine.analyze("warm-up: ring 070-123 45 67", language="en")  # lazy loading

        def scan(text: str) -> list:
            found = engine.analyze(text, language="en") + engine.analyze(text, language="sv")
            return [(r.start, r.end, r.entity_type, r.score) for r in found]

    setup = time.perf_counter() - start
    rss_loaded = rss_now()
    peak_load = peak_rss()
    reset_peak()  # from here on the peak is the scan's: reading the file doubled the text
    findings = []
    done = 0
    start, cpu = time.perf_counter(), time.process_time()
    for i, text in enumerate(texts):
        findings.extend((i, *f) for f in scan(text))
        done = i + 1
        if args.budget and time.perf_counter() - start > args.budget:
            break
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    nbytes = sum(len(t.encode("utf-8")) for t in texts[:done])
    result = {
        "tool": args.worker,
        "seconds": seconds,
        "cpu": cpu,
        "setup": setup,
        "chunks": done,
        "bytes": nbytes,
        "rss_loaded": rss_loaded,
        "peak_rss": peak_rss(),
        "peak_load": peak_load,
        "rss_after": rss_now(),
        "described": described,
        "findings": findings,
    }
    Path(args.out).write_text(json.dumps(result))


# -- Presidio's venv ----------------------------------------------------------------------------


def presidio_python() -> Path:
    """The python of Presidio's own venv, made with pip install presidio-analyzer if missing."""
    python = PRESIDIO_VENV / "bin" / "python"
    if python.exists():
        check = subprocess.run([python, "-c", "import presidio_analyzer"], capture_output=True)
        if check.returncode == 0:
            return python
    print(
        f"making Presidio's venv in {PRESIDIO_VENV} (pip install presidio-analyzer; not timed) ...",
        flush=True,
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    for argv in (
        [sys.executable, "-m", "venv", "--clear", PRESIDIO_VENV],
        [python, "-m", "pip", "install", "--quiet", "presidio-analyzer"],
    ):
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(
                f"{' '.join(map(str, argv))} failed ({done.returncode}):\n"
                f"{(done.stdout + done.stderr)[-3000:]}"
            )
    return python


# -- the filler text ----------------------------------------------------------------------------

SV_SUBJECTS = [
    "Vi",
    "Jag",
    "Kunden",
    "Leverantören",
    "Supporten",
    "Systemet",
    "Projektgruppen",
    "Ekonomiavdelningen",
    "Driftteamet",
    "Säljavdelningen",
    "Styrelsen",
    "Konsulten",
    "Kommunen",
    "Personalavdelningen",
    "Den nya versionen",
    "Servern",
    "Vår jurist",
    "Chefen",
    "IT-avdelningen",
    "Ledningsgruppen",
    "Skrivaren på tredje våningen",
    "Ni",
    "Någon på kontoret",
    "Revisorn",
    "Installationen",
]
SV_VERBS = [
    "har skickat",
    "behöver se över",
    "ska uppdatera",
    "har godkänt",
    "väntar på",
    "gick igenom",
    "planerar att byta ut",
    "diskuterade",
    "flyttade",
    "återställde",
    "har fått tillbaka",
    "hittade inte",
    "vill ändra",
    "har beställt",
    "testade",
    "dokumenterade",
    "stängde",
    "har påbörjat",
    "kontrollerade",
    "behöver godkänna",
    "har frågat om",
    "skickade tillbaka",
    "har redan betalat",
    "glömde bort",
]
SV_OBJECTS = [
    "offerten",
    "den nya rutinen för inloggning",
    "loggarna från natten",
    "kvartalsrapporten",
    "avtalet med leverantören",
    "behörigheterna i portalen",
    "budgeten för nästa år",
    "ärendet",
    "kundregistret",
    "säkerhetskopian",
    "licenserna",
    "mötesanteckningarna",
    "fakturaunderlaget",
    "brandväggsreglerna",
    "instruktionen för nya medarbetare",
    "leveransen",
    "schemat för jouren",
    "beställningen av nya datorer",
    "dokumentationen",
    "migreringen av databasen",
    "certifikatet för webbplatsen",
    "årsredovisningen",
    "inbjudan till kickoffen",
    "lösenordspolicyn",
    "prislistan",
    "serviceavtalet",
    "nyhetsbrevet",
]
SV_ADVERBIALS = [
    "i går",
    "före fredag",
    "under eftermiddagen",
    "efter lunch",
    "enligt plan",
    "så snart som möjligt",
    "i samband med flytten",
    "utan problem",
    "på måndag",
    "innan sommaren",
    "förra veckan",
    "i nästa sprint",
    "tillsammans med konsulten",
    "som vi kom överens om",
    "",
    "",
    "",
    "{date}",
    "den {day} {sv_month}",
    "kl. {time}",
    "till en kostnad av {amount}",
    "i version {version}",
    "i ärende {ticket}",
    "vecka {week}",
    "för {percent} av användarna",
    "på {gb} GB",
    "i Stockholm",
    "i Göteborg",
    "hos Skatteverket",
    "via Microsoft Teams",
]
SV_SENTENCES = [
    "Tack för snabbt svar!",
    "Hör av dig om något är oklart.",
    "Ha en trevlig helg!",
    "Jag återkommer så fort jag vet mer.",
    "Det fungerar som det ska nu.",
    "Se bifogad fil.",
    "Ingen åtgärd behövs från er sida.",
    "Vi beklagar besväret.",
    "Mötet flyttas till nästa vecka.",
    "Felet gick inte att återskapa.",
    "Kan du bekräfta att du har fått detta?",
    "Ärendet är nu avslutat.",
    "Enligt policyn ska lösenord bytas var nittionde dag.",
    "Lunchen blir i konferensrummet på plan 4.",
    "Glöm inte tidrapporten.",
    "Fakturan förfaller om {days} dagar.",
    "Priset är {amount} exklusive moms.",
    "Uppdateringen tog {minutes} minuter.",
    "Det gäller {count} av våra kunder.",
    "Nästa avstämning är {date} kl. {time}.",
    "Servicefönstret är {time}-{time2}.",
    "Backupen var klar efter {minutes} minuter och tog {gb} GB.",
    "Vi ses i rum {room} på torsdag.",
    "Offerten gäller till {date}.",
]
EN_SUBJECTS = [
    "We",
    "I",
    "The customer",
    "The supplier",
    "Support",
    "The system",
    "The board",
    "The project team",
    "Finance",
    "Operations",
    "Sales",
    "The consultant",
    "Legal",
    "The new release",
    "The server",
    "Our lawyer",
    "The manager",
    "IT",
    "You",
    "Someone at the office",
    "The auditor",
    "The installer",
    "HR",
]
EN_VERBS = [
    "has sent",
    "needs to review",
    "will update",
    "has approved",
    "is waiting for",
    "went through",
    "plans to replace",
    "discussed",
    "moved",
    "restored",
    "got back",
    "could not find",
    "wants to change",
    "has ordered",
    "tested",
    "documented",
    "closed",
    "has started on",
    "checked",
    "needs to sign off",
    "asked about",
    "sent back",
    "has already paid",
    "forgot about",
]
EN_OBJECTS = [
    "the quote",
    "the new login routine",
    "last night's logs",
    "the quarterly report",
    "the supplier contract",
    "the portal permissions",
    "next year's budget",
    "the ticket",
    "the customer register",
    "the backup",
    "the licences",
    "the meeting notes",
    "the invoice details",
    "the firewall rules",
    "the onboarding guide",
    "the delivery",
    "the on-call schedule",
    "the laptop order",
    "the documentation",
    "the database migration",
    "the website certificate",
    "the annual report",
    "the kickoff invitation",
    "the password policy",
    "the price list",
    "the service agreement",
]
EN_ADVERBIALS = [
    "yesterday",
    "before Friday",
    "this afternoon",
    "after lunch",
    "as planned",
    "as soon as possible",
    "during the move",
    "without problems",
    "on Monday",
    "before the summer",
    "last week",
    "in the next sprint",
    "with the consultant",
    "as agreed",
    "",
    "",
    "",
    "on {date}",
    "on {day} {en_month}",
    "at {time}",
    "at a cost of {amount}",
    "in version {version}",
    "in ticket {ticket}",
    "in week {week}",
    "for {percent} of users",
    "on {gb} GB",
    "in London",
    "at the Stockholm office",
    "via Google Drive",
]
EN_SENTENCES = [
    "Thanks for the quick reply!",
    "Let me know if anything is unclear.",
    "Have a nice weekend!",
    "I will get back to you when I know more.",
    "It works as expected now.",
    "Please see the attached file.",
    "No action is needed on your side.",
    "Sorry for the inconvenience.",
    "The meeting is moved to next week.",
    "We could not reproduce the error.",
    "Could you confirm that you received this?",
    "The ticket is now closed.",
    "Passwords must be changed every ninety days.",
    "Lunch is in room {room}.",
    "Please remember to submit your timesheet.",
    "The invoice is due in {days} days.",
    "The price is {amount} excluding VAT.",
    "The upgrade took {minutes} minutes.",
    "This affects {count} of our customers.",
    "The next review is on {date} at {time}.",
    "The maintenance window is {time}-{time2} UTC.",
    "The backup finished after {minutes} minutes and took {gb} GB.",
    "The offer is valid until {date}.",
]
LOG_LINES = [
    "{stamp} INFO backup: snapshot {hex} saved, {count} files, {gb} GB in {secs} s",
    "{stamp} WARN disk /var at {percent} full",
    "{stamp} INFO cron: job {ticket} done",
    "{stamp} ERROR worker[{pid}]: job {ticket} failed: timeout after {secs} s",
    "{stamp} INFO GET /api/v2/orders/{ticket} 200 {ms} ms",
    "{stamp} INFO POST /api/v2/invoices 201 {ms} ms",
    "{stamp} DEBUG cache hit ratio {percent}, {count} keys",
    "{stamp} INFO nginx reloaded (version {version})",
    "{stamp} WARN certificate expires in {days} days",
    "{stamp} INFO sync finished: {count} rows, {ms} ms",
    "{stamp} INFO agent {build} checked in, next in {secs} s",
    "{stamp} INFO fetched https://support.example.se/{path}/{ticket} in {ms} ms",
]
SV_MONTHS = [
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
]
EN_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
COMPANIES = [
    "Exempelbolaget AB",
    "Nordlast Logistik AB",
    "Granit Data AB",
    "Fjällström & Co HB",
    "Acme Nordic AB",
    "Solbacka Fastigheter AB",
    "Brandt Konsult AB",
]
FOOTERS = [
    "{company} | Org.nr {orgnr} | Bankgiro {bankgiro} | www.example.se",
    "{company}\nOrganisationsnummer: {orgnr}\nMomsreg.nr: {vatnr}",
    "{company}, reg. no. {orgnr}, VAT {vatnr}",
    "Faktura {ocr}, OCR {ocr}, förfaller {date}",
    "Invoice {ticket}: pay {amount} to bankgiro {bankgiro} with reference {ocr} by {date}",
    "Läs mer på https://support.example.se/{path}/{ticket}",
    "Ordernummer {ocr} skickades {date}. Spåra paketet: https://track.example.com/{ocr}",
]
HEADINGS = [
    "Mötesanteckningar {date}",
    "Agenda",
    "Meeting notes {date}",
    "Sammanfattning",
    "Summary",
    "Bakgrund",
    "Next steps",
    "Att göra",
    "Release notes {version}",
    "Driftinformation vecka {week}",
    "Incident report {ticket}",
]


class Filler:
    """Plain prose, notes and log excerpts in Swedish and English: no personal data."""

    def __init__(self, r: random.Random) -> None:
        self.r = r

    def values(self) -> dict:
        r = self.r
        date = f"{r.randrange(2019, 2027)}-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}"
        hour, sep = r.randrange(7, 21), r.choice(".:")
        time_ = f"{hour:02d}{sep}{r.choice(['00', '15', '30', '45'])}"
        time2 = f"{hour + r.randrange(1, 3):02d}{sep}{r.choice(['00', '15', '30', '45'])}"
        org = f"{r.choice([552, 556, 559, 802, 716, 212])}{r.randrange(10**7):07d}"[:9]
        from stdnum.luhn import calc_check_digit  # gallra's venv only: not in the worker

        org += calc_check_digit(org)
        amount = r.choice(
            [
                f"{r.randrange(1, 99)} {r.randrange(1000):03d} kr",
                f"{r.randrange(100, 999)} kr",
                f"€{r.randrange(100, 9999)}",
                f"SEK {r.randrange(1, 99)},{r.randrange(1000):03d}",
                f"{r.randrange(2, 90) * 50} SEK",
            ]
        )
        stamp = f"{date} {r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d}"
        return {
            "date": date,
            "time": time_,
            "time2": time2,
            "amount": amount,
            "stamp": stamp,
            "orgnr": f"{org[:6]}-{org[6:]}",
            "vatnr": f"SE{org}01",
            "bankgiro": f"{r.randrange(100, 9999)}-{r.randrange(1000, 9999)}",
            "ocr": f"{r.randrange(10**7, 10**12)}",
            "company": r.choice(COMPANIES),
            "path": r.choice(["arenden", "wiki/Rutiner", "kb/article", "tickets"]),
            "build": f"10.0.{r.randrange(17000, 26000)}.{r.randrange(100, 5000)}",
            "version": f"{r.randrange(1, 15)}.{r.randrange(10)}.{r.randrange(20)}",
            "ticket": f"{r.choice(['#', ''])}{r.randrange(1000, 99999)}",
            "week": r.randrange(1, 53),
            "percent": f"{r.randrange(1, 100)} %",
            "gb": r.choice([2, 4, 8, 16, 32, 64, 128, 256, 512]),
            "day": r.randrange(1, 29),
            "sv_month": r.choice(SV_MONTHS),
            "en_month": r.choice(EN_MONTHS),
            "days": r.randrange(5, 60),
            "minutes": r.randrange(2, 90),
            "count": r.randrange(2, 5000),
            "room": r.randrange(100, 700),
            "hex": f"{r.getrandbits(32):08x}",
            "secs": r.randrange(1, 900),
            "pid": r.randrange(300, 60000),
            "ms": r.randrange(1, 2000),
        }

    def sentence(self, swedish: bool) -> str:
        r = self.r
        if r.random() < 0.3:
            text = r.choice(SV_SENTENCES if swedish else EN_SENTENCES)
        else:
            subjects, verbs, objects, adverbials = (
                (SV_SUBJECTS, SV_VERBS, SV_OBJECTS, SV_ADVERBIALS)
                if swedish
                else (EN_SUBJECTS, EN_VERBS, EN_OBJECTS, EN_ADVERBIALS)
            )
            adverbial = r.choice(adverbials)
            text = f"{r.choice(subjects)} {r.choice(verbs)} {r.choice(objects)}"
            text = f"{text} {adverbial}." if adverbial else f"{text}."
        return text.format(**self.values()) if "{" in text else text

    def paragraph(self) -> str:
        r = self.r
        kind = r.random()
        if kind < 0.08:
            return "\n".join(
                r.choice(LOG_LINES).format(**self.values()) for _ in range(r.randrange(2, 12))
            )
        if kind < 0.2:
            return r.choice(FOOTERS).format(**self.values())
        if kind < 0.27:
            heading = r.choice(HEADINGS).format(**self.values())
            items = [
                f"{'-' if r.random() < 0.5 else f'{i + 1}.'} {self.sentence(r.random() < 0.6)}"
                for i in range(r.randrange(2, 7))
            ]
            return "\n".join([heading, *items])
        swedish = r.random() < 0.6
        return " ".join(self.sentence(swedish) for _ in range(r.randrange(2, 8)))


def make_text(size: int, seed: int) -> tuple[list[str], list, list, list[str]]:
    """Messages of filler paragraphs with corpus documents among them (10% of the bytes);
    the corpus documents' spans [message, start, end]; their labels [message, start, end,
    kind]; the corpus subjects' names."""
    from gallra.scanner.corpus import corpus

    r = random.Random(seed)
    filler = Filler(r)
    share = 0.10
    made, names = corpus(int(size * share / 200) + 100, seed=seed + 1)
    documents = []
    for d in made:
        lead = len(d.text) - len(d.text.lstrip())
        text = d.text.strip()
        documents.append((text, [(s - lead, e - lead, k) for s, e, k in d.labels]))
    messages: list[str] = []
    spans: list[tuple[int, int, int]] = []
    labels: list[tuple[int, int, int, str]] = []
    total = from_corpus = used = 0
    while total < size:
        parts = [(filler.paragraph(), None) for _ in range(r.randrange(1, 9))]
        added = sum(len(p.encode()) + 2 for p, _ in parts)
        while from_corpus < share * (total + added):
            document = documents[used % len(documents)]
            used += 1
            parts.insert(r.randrange(len(parts) + 1), document)
            n = len(document[0].encode()) + 2
            from_corpus += n
            added += n
        text = ""
        for part, part_labels in parts:
            if text:
                text += "\n\n"
            if part_labels is not None:
                m, at = len(messages), len(text)
                spans.append((m, at, at + len(part)))
                labels.extend((m, at + s, at + e, k) for s, e, k in part_labels)
            text += part
        messages.append(text)
        total += len(text.encode()) + 1
    return messages, spans, labels, names


def text_file(size: int, seed: int) -> tuple[Path, dict]:
    """The cached throughput text for this size and seed (made if missing or stale)."""
    import gallra.scanner.corpus as corpus_module

    CACHE.mkdir(parents=True, exist_ok=True)
    name = f"text-{size // MB}MB-seed{seed}"
    path, meta_path = CACHE / f"{name}.txt", CACHE / f"{name}.json"
    source = hashlib.sha256()
    source.update(Path(corpus_module.__file__).read_bytes())
    for part in (Filler, make_text):
        source.update(inspect.getsource(part).encode())
    for words in (
        SV_SUBJECTS,
        SV_VERBS,
        SV_OBJECTS,
        SV_ADVERBIALS,
        SV_SENTENCES,
        EN_SUBJECTS,
        EN_VERBS,
        EN_OBJECTS,
        EN_ADVERBIALS,
        EN_SENTENCES,
        LOG_LINES,
        HEADINGS,
        COMPANIES,
        FOOTERS,
    ):
        source.update(repr(words).encode())
    generator = source.hexdigest()
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if (meta["size"], meta["seed"], meta["generator"]) == (size, seed, generator):
            print(f"text: {path}, made before in {meta['seconds']:.1f} s")
            return path, meta
    print(f"text: making {size / MB:,.0f} MB (seed {seed}) ...", flush=True)
    start = time.perf_counter()
    messages, spans, labels, names = make_text(size, seed)
    assert not any(SEP in m for m in messages)  # noqa: S101 (the separator must be unused)
    path.write_text(SEP.join(messages), encoding="utf-8")
    seconds = time.perf_counter() - start
    meta = {
        "size": size,
        "seed": seed,
        "generator": generator,
        "seconds": seconds,
        "messages": len(messages),
        "spans": spans,
        "labels": labels,
        "names": names,
    }
    meta_path.write_text(json.dumps(meta))
    (CACHE / f"{name}.names.json").write_text(json.dumps(names))
    print(f"text: {path}, made in {seconds:.1f} s")
    return path, meta


# -- running the workers ------------------------------------------------------------------------


def run_worker(
    python: Path,
    tool: str,
    job: str,
    input_: Path,
    names: Path | None = None,
    chunks: int = 0,
    budget: float = 0,
) -> dict:
    out = CACHE / f"result-{tool}-{job}.json"
    out.unlink(missing_ok=True)
    argv = [python, __file__, "--worker", tool, "--job", job, "--input", input_, "--out", out]
    if names:
        argv += ["--names", names]
    if chunks:
        argv += ["--chunks", str(chunks)]
    if budget:
        argv += ["--budget", str(budget)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    start = time.perf_counter()
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode or not out.exists():
        raise SystemExit(f"{tool} {job} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(out.read_text())
    result["process"] = time.perf_counter() - start
    out.unlink()
    return result


# -- scoring -----------------------------------------------------------------------------------


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def accuracy(
    tool: str, findings: list, labels: list[list[tuple[int, int, str]]], kinds: tuple[str, ...]
) -> dict:
    """Per kind and per group: findings, right findings, labels, labels found."""
    per_doc: dict[int, list] = {}
    for doc, start, end, kind, _score in findings:
        per_doc.setdefault(doc, []).append((start, end, kind))
    rows = {k: {"findings": 0, "right": 0, "labels": 0, "found": 0} for k in kinds}
    groups = {" or ".join(g): g for g in dict.fromkeys(GROUPS.values())}
    for name in groups:
        rows[name] = {"findings": 0, "right": 0, "labels": 0, "found": 0}
    other: dict[str, int] = {}
    wrong: list[tuple[int, int, int, str]] = []
    missed: list[tuple[int, int, int, str]] = []

    def finding_kinds(kind: str) -> tuple[str, ...]:
        return (kind,) if tool == "gallra" else PRESIDIO_KINDS.get(kind, ())

    for doc, doc_labels in enumerate(labels):
        found = per_doc.get(doc, [])
        for start, end, kind in found:
            fits = finding_kinds(kind)
            if not fits:
                other[kind] = other.get(kind, 0) + 1
                continue
            # A grouped Presidio type counts once for each kind of its group (same numbers).
            for k in fits:
                rows[k]["findings"] += 1
                wanted = GROUPS[k] if tool != "gallra" and k in GROUPS else (k,)
                right = any(
                    lk in wanted and overlaps((start, end), (ls, le)) for ls, le, lk in doc_labels
                )
                rows[k]["right"] += right
                if not right and k == fits[0]:
                    wrong.append((doc, start, end, kind))
            for name, group in groups.items():
                if fits[0] in group:
                    rows[name]["findings"] += 1
                    rows[name]["right"] += any(
                        lk in group and overlaps((start, end), (ls, le))
                        for ls, le, lk in doc_labels
                    )
        for ls, le, lk in doc_labels:
            rows[lk]["labels"] += 1
            hit = any(lk in finding_kinds(k) and overlaps((s, e), (ls, le)) for s, e, k in found)
            rows[lk]["found"] += hit
            if not hit:
                missed.append((doc, ls, le, lk))
            for name, group in groups.items():
                if lk in group:
                    rows[name]["labels"] += 1
                    rows[name]["found"] += any(
                        set(finding_kinds(k)) & set(group) and overlaps((s, e), (ls, le))
                        for s, e, k in found
                    )
    for name, row in rows.items():
        if tool != "gallra" and name in kinds:
            covered = any(name in ks for ks in PRESIDIO_KINDS.values())
            row["covered"] = covered
        else:
            row["covered"] = True
    rows["_other"], rows["_wrong"], rows["_missed"] = other, wrong, missed
    return rows


def pr(row: dict) -> tuple[float | None, float | None]:
    if not row["covered"]:
        return None, None
    p = row["right"] / row["findings"] if row["findings"] else None
    r = row["found"] / row["labels"] if row["labels"] else None
    return p, r


def compare(ours: float | None, theirs: float | None) -> str:
    """better, same or worse, to the 3 decimals shown; no figure at all is the worst."""
    a = -1.0 if ours is None else round(ours, 3)
    b = -1.0 if theirs is None else round(theirs, 3)
    return "better" if a > b else "same" if a == b else "worse"


def fmt(x: float | None, covered: bool = True) -> str:
    if not covered:
        return "-"
    return "n/a" if x is None else f"{x:.3f}"


# -- the report ----------------------------------------------------------------------------------


def code_state() -> str:
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "log", "-1", "--format=%h %cs"], capture_output=True, text=True)
    if head.returncode:
        return "not a git checkout"
    changed = subprocess.run(
        [*git, "status", "--porcelain", "--", "src/gallra/scanner"], capture_output=True, text=True
    ).stdout.split("\n")
    dirty = [line[3:] for line in changed if line.strip()]
    return f"commit {head.stdout.strip()}" + (
        f"; changed since: {', '.join(dirty)}" if dirty else ""
    )


def filler_findings(result: dict, messages: list[str], spans: list) -> dict:
    """Findings that overlap no corpus document: {kind: [text in context, ...]}."""
    by_message: dict[int, list[tuple[int, int]]] = {}
    for message, start, end in spans:
        by_message.setdefault(message, []).append((start, end))
    out: dict[str, list[str]] = {}
    for message, start, end, kind, _score in result["findings"]:
        if any(overlaps((start, end), s) for s in by_message.get(message, ())):
            continue
        text = messages[message]
        context = (
            text[max(0, start - 25) : start] + "[" + text[start:end] + "]" + text[end : end + 15]
        ).replace("\n", " ")
        out.setdefault(kind, []).append(context)
    return out


def print_filler(title: str, found: dict, filler_mb: float, examples: int = 6) -> None:
    total = sum(len(v) for v in found.values())
    print(
        f"\n{title}: {total:,} findings in {filler_mb:,.2f} MB of filler "
        f"({total / filler_mb:,.1f} per MB), all false positives"
    )
    for kind, items in sorted(found.items(), key=lambda kv: -len(kv[1])):
        print(f"  {kind:18} {len(items):8,}  ({len(items) / filler_mb:,.2f} per MB)")
        seen: set[str] = set()
        for item in items:
            key = item[item.index("[") :]
            if key in seen:
                continue
            seen.add(key)
            print(f"      ...{item}")
            if len(seen) >= examples:
                break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=100, help="size of the throughput text")
    parser.add_argument(
        "--presidio-mb", type=float, default=5.0, help="Presidio's slice: the first MB of the text"
    )
    parser.add_argument(
        "--presidio-budget",
        type=float,
        default=180,
        help="stop Presidio's slice after this many seconds",
    )
    parser.add_argument("--documents", type=int, default=3000)
    parser.add_argument("--technical-lines", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--worker", choices=["gallra", "presidio", "presidio-lean"], help=argparse.SUPPRESS
    )
    parser.add_argument("--job", choices=["throughput", "accuracy"], help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--names", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--chunks", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    from gallra.scanner import scan
    from gallra.scanner.corpus import corpus

    started = time.perf_counter()
    print(f"gallra: {ROOT}, {code_state()}")
    presidio = presidio_python()

    # The labelled corpus.
    documents, names = corpus(args.documents, seed=args.seed)
    corpus_path = CACHE / f"corpus-{args.documents}-seed{args.seed}.json"
    corpus_path.write_text(json.dumps({"texts": [d.text for d in documents], "names": names}))
    labels = [d.labels for d in documents]
    corpus_bytes = sum(len(d.text.encode()) for d in documents)

    # The throughput text.
    size = args.mb * MB
    path, meta = text_file(size, args.seed)
    names_path = CACHE / f"{path.stem}.names.json"
    names_path.write_text(json.dumps(meta["names"]))
    messages = path.read_text(encoding="utf-8").split(SEP)
    sizes = [len(m.encode()) for m in messages]
    total = sum(sizes)
    spans = meta["spans"]
    in_corpus = sum(len(messages[m][s:e].encode()) for m, s, e in spans)
    print(
        f"  {total / MB:,.1f} MB in {len(messages):,} messages (mean {total / len(messages):,.0f}"
        f" bytes); corpus documents {len(spans):,}, {100 * in_corpus / total:.1f}% of the "
        f"bytes; {len(meta['names'])} subject names"
    )
    slice_chunks, acc = 0, 0
    for n in sizes:
        if acc >= args.presidio_mb * MB:
            break
        acc += n
        slice_chunks += 1

    print("\naccuracy: gallra ...", end=" ", flush=True)
    g_acc = run_worker(GALLRA_PYTHON, "gallra", "accuracy", corpus_path)
    print(f"{g_acc['seconds']:.2f} s; Presidio ...", end=" ", flush=True)
    p_acc = run_worker(presidio, "presidio", "accuracy", corpus_path)
    print(f"{p_acc['seconds']:.2f} s", flush=True)
    described = p_acc["described"]

    print(
        f"throughput: Presidio on the first {acc / MB:.2f} MB (at most "
        f"{args.presidio_budget:g} s) ...",
        end=" ",
        flush=True,
    )
    slice_path = CACHE / f"{path.stem}.slice.txt"  # only the slice: less for the RSS to hold
    slice_path.write_text(SEP.join(messages[:slice_chunks]), encoding="utf-8")
    p_tp = run_worker(
        presidio,
        "presidio",
        "throughput",
        slice_path,
        names_path,
        slice_chunks,
        args.presidio_budget,
    )
    print(
        f"{p_tp['seconds']:.1f} s; gallra on the same {p_tp['bytes'] / MB:.2f} MB ...",
        end=" ",
        flush=True,
    )
    g_slice = run_worker(
        GALLRA_PYTHON, "gallra", "throughput", slice_path, names_path, p_tp["chunks"]
    )
    lean_budget = min(60.0, args.presidio_budget)
    print(
        f"{g_slice['seconds']:.2f} s; Presidio lean on the slice (at most {lean_budget:g} s) ...",
        end=" ",
        flush=True,
    )
    lean_tp = run_worker(
        presidio, "presidio-lean", "throughput", slice_path, names_path, slice_chunks, lean_budget
    )
    print(
        f"{lean_tp['seconds']:.1f} s; gallra on all {total / MB:,.0f} MB ...", end=" ", flush=True
    )
    g_tp = run_worker(GALLRA_PYTHON, "gallra", "throughput", path, names_path)
    print(f"{g_tp['seconds']:.1f} s", flush=True)

    # -- report
    print(
        f"\nPresidio {described['version']} (phonenumbers {described['phonenumbers']}), "
        f"{described['nlp_engine']}, default score threshold {described['threshold']}, "
        f"phone regions {', '.join(described['regions'])}; recognizers:"
    )
    for lang, recognizers in described["recognizers"].items():
        print(f"  {lang}: {'; '.join(recognizers)}")
    print(f"gallra scanner: {g_tp['described']['module']}")

    print(
        "\nThroughput; MB = 10^6 bytes of UTF-8; seconds = the scanning loop only, "
        "text in memory; set-up apart; memory in MB: RSS before the loop, peak during it "
        "(the findings kept included), peak while reading the file"
    )
    head = (
        f"{'tool':26} {'MB':>7} {'messages':>9} {'seconds':>8} {'MB/s':>8} {'CPU s':>8} "
        f"{'CPU MB/s':>8} {'set-up s':>8} {'RSS before':>10} {'peak scan':>9} "
        f"{'peak load':>9}"
    )
    print(head)
    print("-" * len(head))
    rows = [
        ("Presidio (slice)", p_tp),
        ("gallra (same slice)", g_slice),
        (f"gallra (all {total / MB:,.0f} MB)", g_tp),
        ("Presidio lean (slice)", lean_tp),
    ]
    for name, r in rows:
        print(
            f"{name:26} {r['bytes'] / MB:7.2f} {r['chunks']:9,} {r['seconds']:8.2f} "
            f"{r['bytes'] / MB / r['seconds']:8.3f} {r['cpu']:8.2f} "
            f"{r['bytes'] / MB / r['cpu']:8.3f} {r['setup']:8.2f} {r['rss_loaded']:10.1f} "
            f"{r['peak_rss']:9.1f} {r['peak_load']:9.1f}"
        )
    p_rate = p_tp["bytes"] / MB / p_tp["seconds"]
    g_rate = g_tp["bytes"] / MB / g_tp["seconds"]
    g_slice_rate = g_slice["bytes"] / MB / g_slice["seconds"]
    ratio = g_rate / p_rate
    cpu_ratio = (g_tp["bytes"] / g_tp["cpu"]) / (p_tp["bytes"] / p_tp["cpu"])
    print(
        f"gallra / Presidio: {ratio:,.1f}x (all of the text against Presidio's slice); "
        f"{g_slice_rate / p_rate:,.1f}x on the same slice; in CPU seconds {cpu_ratio:,.1f}x; "
        f"target {TARGET:g}x: "
        f"{'met' if min(ratio, g_slice_rate / p_rate) >= TARGET else 'NOT met'}"
    )
    lean_rate = lean_tp["bytes"] / MB / lean_tp["seconds"]
    lean_cpu = (g_tp["bytes"] / g_tp["cpu"]) / (lean_tp["bytes"] / lean_tp["cpu"])
    print(
        f"gallra / Presidio lean (the recognizers of EMAIL_ADDRESS, PHONE_NUMBER with region "
        f"SE alone, IBAN_CODE, IP_ADDRESS and SE_PERSONNUMMER only): {g_rate / lean_rate:,.1f}x"
        f"; in CPU seconds {lean_cpu:,.1f}x"
    )

    # Precision and recall on the throughput text: its corpus documents' labels; findings in
    # the filler count as wrong.
    kinds = tuple(scan.KINDS)
    text_labels: list[list] = [[] for _ in messages]
    for m, start, end, kind in meta["labels"]:
        text_labels[m].append((start, end, kind))
    rows_text = {
        "gallra, all": accuracy("gallra", g_tp["findings"], text_labels, kinds),
        "gallra, slice": accuracy(
            "gallra", g_slice["findings"], text_labels[: g_slice["chunks"]], kinds
        ),
        "Presidio, slice": accuracy(
            "presidio", p_tp["findings"], text_labels[: p_tp["chunks"]], kinds
        ),
        "Presidio lean, slice": accuracy(
            "presidio", lean_tp["findings"], text_labels[: lean_tp["chunks"]], kinds
        ),
    }
    print(
        "\nPrecision and recall on the throughput text (the labels of its corpus documents; "
        "findings in the filler count as wrong)"
    )
    head = f"{'kind':33} " + " | ".join(f"{t:>22}" for t in rows_text)
    print(head)
    print(f"{'':33} " + " | ".join(f"{'labels':>6} {'P':>7} {'R':>7}" for _ in rows_text))
    print("-" * len(head))
    for name in [k for k in rows_text["gallra, all"] if not k.startswith("_")]:
        cells = []
        for rows in rows_text.values():
            p_, r_ = pr(rows[name])
            cells.append(
                f"{rows[name]['labels']:6} {fmt(p_, rows[name]['covered']):>7} "
                f"{fmt(r_, rows[name]['covered']):>7}"
            )
        print(f"{name:33} " + " | ".join(cells))
    for title, rows in (
        ("gallra, all", rows_text["gallra, all"]),
        ("Presidio, slice", rows_text["Presidio, slice"]),
    ):
        for what in ("_wrong", "_missed"):
            items = rows[what]
            if not items:
                print(f"{title}: {what[1:]}: none")
                continue
            counts: dict[str, int] = {}
            for item in items:
                counts[item[3]] = counts.get(item[3], 0) + 1
            print(f"{title}: {what[1:]}: " + ", ".join(f"{k} {n:,}" for k, n in counts.items()))
            shown: dict[str, int] = {}
            for m, start, end, kind in items:
                if shown.get(kind, 0) >= (4 if title.startswith("gallra") else 2):
                    continue
                shown[kind] = shown.get(kind, 0) + 1
                text = messages[m]
                context = (
                    text[max(0, start - 30) : start]
                    + "["
                    + text[start:end]
                    + "]"
                    + text[end : end + 20]
                ).replace("\n", "\\n")
                print(f"    {kind:18} ...{context}...")

    # Findings in the filler (false positives by construction).
    filler_all = (total - in_corpus) / MB
    slice_spans = [s for s in spans if s[0] < p_tp["chunks"]]
    slice_corpus = sum(len(messages[m][s:e].encode()) for m, s, e in slice_spans)
    filler_slice = (p_tp["bytes"] - slice_corpus) / MB
    print_filler(
        f"gallra, all {total / MB:,.0f} MB", filler_findings(g_tp, messages, spans), filler_all
    )
    print_filler(
        "gallra, Presidio's slice",
        filler_findings(g_slice, messages, slice_spans),
        filler_slice,
        examples=2,
    )
    print_filler(
        "Presidio, its slice (every entity type)",
        filler_findings(p_tp, messages, slice_spans),
        filler_slice,
        examples=3,
    )

    # Precision and recall on the labelled corpus.
    g_rows = accuracy("gallra", g_acc["findings"], labels, kinds)
    p_rows = accuracy("presidio", p_acc["findings"], labels, kinds)
    print(
        f"\nPrecision and recall on corpus({args.documents}, seed={args.seed}): "
        f"{corpus_bytes / MB:.2f} MB, {sum(map(len, labels)):,} labels; "
        f"right = overlaps a label of its kind"
    )
    head = (
        f"{'kind':33} {'labels':>6} | {'gallra P':>8} {'R':>6} {'found':>6} | "
        f"{'Presidio P':>10} {'R':>6} {'found':>6} | gallra against Presidio"
    )
    print(head)
    print("-" * len(head))
    verdicts: dict[str, tuple[str, str]] = {}
    for name in [k for k in g_rows if not k.startswith("_")]:
        g, p = g_rows[name], p_rows[name]
        gp, gr = pr(g)
        pp, pr_ = pr(p)
        mark = "*" if name in GROUPS else ""
        verdict = (compare(gp, pp), compare(gr, pr_))
        if name in kinds:
            verdicts[name] = verdict
        note = f"P {verdict[0]}, R {verdict[1]}" + ("" if p["covered"] else " (Presidio: none)")
        print(
            f"{name:33} {g['labels']:6} | {fmt(gp):>8} {fmt(gr):>6} {g['findings']:6} | "
            f"{fmt(pp, p['covered']) + mark:>10} {fmt(pr_, p['covered']):>6} "
            f"{p['findings'] if p['covered'] else '-':>6} | {note}"
        )
    print(
        "* Presidio's precision for its whole type (SE_PERSONNUMMER, PHONE_NUMBER): a finding "
        "is right when it overlaps a label of either kind of the group"
    )
    other = p_rows["_other"]
    if other:
        print(
            "Presidio's other types on the corpus (not scored): "
            + ", ".join(f"{k} {n:,}" for k, n in sorted(other.items(), key=lambda kv: -kv[1]))
        )
    both = [k for k, v in verdicts.items() if v == ("better", "better")]
    tied = [k for k, v in verdicts.items() if "worse" not in v and v != ("better", "better")]
    worse = [k for k, v in verdicts.items() if "worse" in v]
    print(
        f"\nbetter precision and recall than Presidio on every kind: "
        f"{'yes' if len(both) == len(verdicts) else 'NO'}; better in both on "
        f"{', '.join(both) or 'none'}; equal in one or both (never worse) on "
        f"{', '.join(tied) or 'none'}; worse on {', '.join(worse) or 'none'}"
    )
    print(
        f"throughput: gallra {g_rate:,.2f} MB/s ({total / MB:,.0f} MB), Presidio {p_rate:,.3f} "
        f"MB/s ({p_tp['bytes'] / MB:.2f} MB) = {ratio:,.1f}x; same slice "
        f"{g_slice_rate / p_rate:,.1f}x; CPU {cpu_ratio:,.1f}x; target {TARGET:g}x: "
        f"{'met' if min(ratio, g_slice_rate / p_rate) >= TARGET else 'NOT met'}"
    )
    technical_text(args.technical_lines, args.seed, names)
    print(f"\nmeasured in {time.perf_counter() - started:.0f} s")


def technical_text(lines: int, seed: int, names: list[str]) -> None:
    """gallra on logs, configuration and code: nothing but their addresses may be found."""
    from gallra.scanner import scan, technical

    scanner = scan.Scanner(names)
    documents = technical.technical(lines, seed)
    print(
        f"\nTechnical text (gallra.scanner.technical, {lines:,} entries per kind, seed {seed}): "
        "findings that overlap no labelled IP or e-mail address are false"
    )
    head = f"{'kind of file':14} {'MB':>6} {'labels':>7} {'found':>7} {'false':>6}  examples"
    print(head)
    print("-" * len(head))
    total_bytes = total_false = 0
    cpu = 0.0
    for name, document in documents.items():
        started = time.process_time()
        found = scanner.scan(document.text)
        cpu += time.process_time() - started
        false = [
            f
            for f in found
            if not any(a < f.end and f.start < b and k == f.kind for a, b, k in document.labels)
        ]
        hit = sum(
            any(a < f.end and f.start < b and f.kind == k for f in found)
            for a, b, k in document.labels
        )
        size = len(document.text.encode())
        total_bytes += size
        total_false += len(false)
        shown = "; ".join(
            f"{f.kind} {document.text[max(0, f.start - 20) : f.end + 5]!r}" for f in false[:2]
        )
        print(
            f"{name:14} {size / MB:6.2f} {len(document.labels):7,} {hit:7,} {len(false):6,}  "
            f"{shown}"
        )
    print(
        f"technical text: {total_bytes / MB:.2f} MB, {total_false:,} false findings; gallra "
        f"{total_bytes / MB / cpu:.2f} CPU MB/s on it"
    )


if __name__ == "__main__":
    main()
