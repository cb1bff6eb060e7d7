"""The banner's own words, Swedish and English; everything else comes from the policy."""

TEXT = {
    "sv": {
        "title": "Vi använder kakor",
        "body": "Nödvändiga kakor får webbplatsen att fungera. Med ditt samtycke använder vi "
        "också: {categories}. Du väljer själv, och du kan ändra dig eller återkalla "
        "ditt samtycke när som helst via länken Kakinställningar.",
        "accept": "Acceptera alla",
        "reject": "Avvisa alla",
        "settings": "Välj själv",
        "save": "Spara mina val",
        "reopen": "Kakinställningar",
        "details": "Om kakorna: syfte, livslängd och vem som kan läsa dem",
        "choose": "Välj vilka kakor du godkänner",
        "always": "alltid på",
        "cookie": "Kaka",
        "purpose": "Syfte",
        "duration": "Livslängd",
        "third": "Tredje part kan läsa",
        "yes": "ja",
        "no": "nej",
        "service": "Tjänst",
    },
    "en": {
        "title": "We use cookies",
        "body": "Necessary cookies make the website work. With your consent we also use: "
        "{categories}. It is your choice, and you can change your mind or withdraw "
        "your consent at any time through the Cookie settings link.",
        "accept": "Accept all",
        "reject": "Reject all",
        "settings": "Let me choose",
        "save": "Save my choices",
        "reopen": "Cookie settings",
        "details": "About the cookies: purpose, duration and who can read them",
        "choose": "Choose which cookies you accept",
        "always": "always on",
        "cookie": "Cookie",
        "purpose": "Purpose",
        "duration": "Duration",
        "third": "Readable by a third party",
        "yes": "yes",
        "no": "no",
        "service": "Service",
    },
}
