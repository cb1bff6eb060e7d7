"""The notice's and the record's own sentences, in Swedish and English.

Everything that varies between providers comes from the policy file; these are only the
frames around it.
"""

from __future__ import annotations

COUNTRIES = {
    "SE": ("Sverige", "Sweden"),
    "NO": ("Norge", "Norway"),
    "DK": ("Danmark", "Denmark"),
    "FI": ("Finland", "Finland"),
    "DE": ("Tyskland", "Germany"),
    "IE": ("Irland", "Ireland"),
    "NL": ("Nederländerna", "the Netherlands"),
    "US": ("USA", "the United States"),
}
SUBJECTS = {
    "customers": ("kunder", "customers"),
    "users": ("användare", "users"),
    "prospects": ("presumtiva kunder", "prospective customers"),
    "visitors": ("besökare på webbplatsen", "website visitors"),
    "staff": ("medarbetare", "staff members"),
}
HOLD = (
    "om inte ett avtal, en pågående förhandling eller ett lagkrav motiverar längre tid",
    "unless an agreement, an ongoing negotiation or a legal requirement justifies longer",
)
OTHER_ROLE = (
    "eller längre så länge personen har en annan roll hos kunden",
    "or longer while the person has another role at the customer",
)
MANUAL = ("raderas för hand", "deleted by hand")

T = {
    "title": ("Integritetspolicy för {org}", "Privacy notice of {org}"),
    "intro": (
        "Här beskriver vi vilka personuppgifter vi har, varför, hur länge vi sparar dem, "
        "vem som ansvarar och vilka rättigheter du har. Texten tas fram ur samma "
        "policyfil som styr våra system, så den beskriver vad systemen faktiskt gör.",
        "This notice says what personal data we hold, why, for how long, who is "
        "responsible and what your rights are. It is generated from the same policy "
        "file that runs our systems, so it describes what they actually do.",
    ),
    "controller": ("Personuppgiftsansvarig", "Controller"),
    "responsible": ("Vem ansvarar", "Who is responsible"),
    "accountable": (
        "Ytterst ansvarig är {role}. Inom varje område ansvarar:",
        "Ultimately responsible: {role}. Within each area:",
    ),
    "data": ("Vilka uppgifter, varför och hur länge", "What data, why and for how long"),
    "what": ("Uppgifter", "Data"),
    "why": ("Varför", "Why"),
    "basis": ("Rättslig grund", "Legal basis"),
    "how_long": ("Hur länge", "How long"),
    "who": ("Ansvarig", "Responsible"),
    "about": ("Gäller", "Concerns"),
    "where_held": ("Var", "Where"),
    "promises": ("Det här lovar vi", "What we promise"),
    "home_directories_private": (
        "Ingen användare får tillgång till en annan användares hemkatalog utan uttrycklig "
        "överenskommelse.",
        "No user gets access to another user's home directory without explicit agreement.",
    ),
    "no_third_party_access": (
        "Vi anlitar inga tredjepartsleverantörer med insyn i våra data, våra kunders data "
        "eller vårt kundregister, och våra servrar är inte tillgängliga för tredje part.",
        "We use no third-party suppliers with insight into our data, our customers' data or "
        "our customer register, and our servers are not accessible to third parties.",
    ),
    "no_sharing": (
        "Vi delar inga uppgifter med tredje part.",
        "We share no data with third parties.",
    ),
    "no_advertising": ("Vi gör inga reklamutskick.", "We send no advertising mailings."),
    "no_trademarks": (
        "Vi använder inte våra kunders varumärken i vår marknadsföring.",
        "We do not use our customers' trademarks in our marketing.",
    ),
    "website": (
        "Vår webbplats sparar inga personuppgifter, om du inte själv skriver in sådana.",
        "Our website stores no personal data unless you type it in.",
    ),
    "contact_form": (
        "Meddelanden från kontaktformuläret skickas till oss som e-post och "
        "sparas inte på webbplatsen; e-posten gallras enligt regeln för "
        "korrespondens.",
        "Messages from the contact form reach us as e-mail and are not stored "
        "on the website; the mail is deleted under the rule for correspondence.",
    ),
    "security": ("Säkerhet", "Security"),
    "passwords": (
        "Personalens lösenord har minst {n} tecken{two}.",
        "Staff passwords have at least {n} characters{two}.",
    ),
    "two_factor": (" och inloggning kräver två faktorer", " and login needs two factors"),
    "logins": (
        "Inloggningar loggas med IP-adressen förkortad (IPv4 till /{v4}, IPv6 till "
        "/{v6}) och platsen som land. Den fullständiga adressen sparas krypterad och "
        "kan bara öppnas av {k} av {n} nyckelinnehavare tillsammans, på begäran av en "
        "myndighet, i högst {life}; därefter går den inte att återskapa.",
        "Logins are logged with the IP address shortened (IPv4 to /{v4}, IPv6 to "
        "/{v6}) and the location as a country. The full address is stored encrypted and "
        "can only be opened by {k} of {n} key holders together, when an authority asks, "
        "for at most {life}; after that it cannot be recovered.",
    ),
    "backups": (
        "Säkerhetskopior för katastrofåterställning är {enc} och sparas i högst "
        "{window}, i {countries}. Efter ett avslutat avtal finns alltså inget kvar som "
        "kan återskapas.",
        "Disaster-recovery backups are {enc} and kept for at most {window}, in "
        "{countries}. So after an agreement has ended nothing remains that could be "
        "restored.",
    ),
    "encrypted": ("krypterade", "encrypted"),
    "unencrypted": ("okrypterade", "unencrypted"),
    "residency": ("Alla uppgifter finns inom {countries}.", "All data stays within {countries}."),
    "recipients": ("Mottagare", "Recipients"),
    "no_recipients": (
        "Vi lämnar inte ut personuppgifter till någon annan och har inga personuppgiftsbiträden.",
        "We give personal data to no one else and use no processors.",
    ),
    "rights": ("Dina rättigheter", "Your rights"),
    "rights_list": (
        [
            "få veta vilka uppgifter vi har om dig och få en kopia (tillgång)",
            "få felaktiga uppgifter rättade",
            "få uppgifter raderade, utom det som lagen kräver att vi sparar",
            "begära att behandlingen begränsas",
            "få ut dina uppgifter i ett maskinläsbart format (dataportabilitet)",
            "invända mot behandling som grundar sig på berättigat intresse",
            "återkalla ett samtycke, lika enkelt som du gav det",
        ],
        [
            "know what data we hold about you and get a copy (access)",
            "have wrong data corrected",
            "have data erased, except what the law requires us to keep",
            "ask for processing to be restricted",
            "receive your data in a machine-readable format (portability)",
            "object to processing based on legitimate interests",
            "withdraw a consent, as easily as you gave it",
        ],
    ),
    "rights_intro": ("Du har rätt att", "You have the right to"),
    "rights_how": (
        "Skicka din begäran via vårt integritetscenter: {url}. Vi bekräftar att det "
        "är du genom en engångslänk till din e-postadress och svarar inom en månad. "
        "Du kan också kontakta oss: {contact}.",
        "Send your request through our privacy centre: {url}. We confirm it is you "
        "with a one-time link to your e-mail address and answer within one month. "
        "You can also contact us: {contact}.",
    ),
    "complaint": (
        "Du kan klaga hos Integritetsskyddsmyndigheten (IMY), www.imy.se.",
        "You can complain to the Swedish Authority for Privacy Protection (IMY), www.imy.se.",
    ),
    "cookies": ("Kakor (cookies)", "Cookies"),
    "cookies_intro": (
        "Webbplatsen sätter bara nödvändiga kakor innan du har valt. Övriga "
        "kategorier används bara om du säger ja; att du fortsätter att använda "
        "webbplatsen räknas inte som ett ja. Du kan ändra dig när som "
        "helst via länken Kakinställningar på varje sida. Vi frågar igen efter "
        "{renew} och när kategorierna ändras.",
        "The website sets only necessary cookies before you choose. Other "
        "categories are used only if you say yes; going on using the website "
        "is not taken as a yes. You can change your mind "
        "at any time through the Cookie settings link on every page. We ask "
        "again after {renew} and whenever the categories change.",
    ),
    "cookie": ("Kaka", "Cookie"),
    "duration": ("Livslängd", "Duration"),
    "third_party": ("Kan läsas av tredje part", "Readable by a third party"),
    "yes": ("ja", "yes"),
    "no": ("nej", "no"),
    "service": ("Tjänst", "Service"),
    "required": ("alltid på", "always on"),
    "version": ("Version {revision} av policyn.", "Version {revision} of the policy."),
}


def i(lang: str) -> int:
    return 0 if lang == "sv" else 1


def t(key: str, lang: str, **values) -> str:
    text = T[key][i(lang)]
    return text.format(**values) if values else text


def country(code: str, lang: str) -> str:
    return COUNTRIES.get(code, (code, code))[i(lang)]


def join(items: list[str], lang: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + (" och " if lang == "sv" else " and ") + items[-1]
